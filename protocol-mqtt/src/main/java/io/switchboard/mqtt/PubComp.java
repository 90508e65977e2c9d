package io.switchboard.mqtt;

/** PUBCOMP (reason code 0 when absent: 3.1.1, or v5's short form). */
public record PubComp(int packetId, int reasonCode) implements MqttPacket {
}
