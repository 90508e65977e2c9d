package io.switchboard.mqtt;

/** DISCONNECT from a client; v5's reason (0 when absent), session expiry (-1 when absent) and reason string. */
public record Disconnect(int reasonCode, long sessionExpirySec, String reasonString) implements MqttPacket {
}
