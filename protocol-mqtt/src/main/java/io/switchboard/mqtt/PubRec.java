package io.switchboard.mqtt;

/** PUBREC: QoS 2 delivery, part 1. {@code reasonCode} is v5's, 0 when absent (3.1.1, or v5's short form). */
public record PubRec(int packetId, int reasonCode) implements MqttPacket {
}
