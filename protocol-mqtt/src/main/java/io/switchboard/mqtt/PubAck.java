package io.switchboard.mqtt;

/** PUBACK (reason code 0 when absent: 3.1.1, or v5's short form). */
public record PubAck(int packetId, int reasonCode) implements MqttPacket {
}
