package io.switchboard.mqtt;

/** PUBREL (reason code 0 when absent: 3.1.1, or v5's short form). */
public record PubRel(int packetId, int reasonCode) implements MqttPacket {
}
