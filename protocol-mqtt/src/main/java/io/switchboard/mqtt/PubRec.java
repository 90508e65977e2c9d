package io.switchboard.mqtt;

/** PUBREC (reason code 0 when absent: 3.1.1, or v5's short form). */
public record PubRec(int packetId, int reasonCode) implements MqttPacket {
}
