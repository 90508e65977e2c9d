package io.switchboard.mqtt;

/** PUBACK: QoS 1 delivery done. {@code reasonCode} is v5's, 0 when absent (3.1.1, or v5's short form). */
public record PubAck(int packetId, int reasonCode) implements MqttPacket {
}
