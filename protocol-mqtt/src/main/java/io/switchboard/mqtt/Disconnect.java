package io.switchboard.mqtt;

/**
 * DISCONNECT from a client.
 *
 * @param reasonCode       v5's reason: 0 (normal disconnection) when absent and always in 3.1.1; 0x04 asks the server
 *                         to publish the will
 * @param sessionExpirySec v5's new session expiry interval, -1 when absent
 * @param reasonString     v5's reason string, null when absent
 */
public record Disconnect(int reasonCode, long sessionExpirySec, String reasonString) implements MqttPacket {
    /** A normal disconnection without properties: every 3.1.1 DISCONNECT, and v5's short form. */
    public static final Disconnect NORMAL = new Disconnect(0, -1, null);
}
