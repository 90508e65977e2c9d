package io.switchboard.mqtt;

/** AUTH (v5 enhanced authentication). */
public record Auth(int reasonCode, String method, byte[] data) implements MqttPacket {
}
