package io.switchboard.mqtt;

/**
 * AUTH (MQTT 5 enhanced authentication).
 *
 * @param reasonCode 0 success, 0x18 continue authentication, 0x19 re-authenticate
 * @param method     the authentication method; null only in the short form (reason 0, no properties)
 * @param data       the authentication data, null when absent
 */
public record Auth(int reasonCode, String method, byte[] data) implements MqttPacket {
}
