package io.switchboard.mqtt;

/** PUBREL: QoS 2 delivery, part 2. {@code reasonCode} is v5's, 0 when absent (3.1.1, or v5's short form). */
public record PubRel(int packetId, int reasonCode) implements MqttPacket {
}
