package io.switchboard.mqtt;

/** PUBCOMP: QoS 2 delivery, part 3. {@code reasonCode} is v5's, 0 when absent (3.1.1, or v5's short form). */
public record PubComp(int packetId, int reasonCode) implements MqttPacket {
}
