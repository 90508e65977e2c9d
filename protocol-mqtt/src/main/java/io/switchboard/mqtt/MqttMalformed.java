package io.switchboard.mqtt;

/**
 * A packet that breaks the protocol: what MQTT 5 would say about it ({@link #reasonCode()}: 0x81 malformed packet,
 * 0x82 protocol error, 0x84 unsupported protocol version, 0x95 packet too large, ...; see {@link MqttReasonCodes})
 * and a short text for the log and the reason string. After one, the byte stream cannot be trusted: the caller sends
 * a CONNACK (before the session; {@link MqttReasonCodes#connackCodeFor} for 3.1.1) or a v5 DISCONNECT with the
 * reason, and closes. Cheap: no stack trace.
 */
public final class MqttMalformed extends Exception {
    private final int reasonCode;

    /** A refusal with MQTT 5 reason {@code reasonCode} and a short text saying what was wrong. */
    public MqttMalformed(int reasonCode, String message) {
        super(message, null, false, false);
        this.reasonCode = reasonCode;
    }

    /** The MQTT 5 reason code to put in the CONNACK or DISCONNECT. */
    public int reasonCode() {
        return reasonCode;
    }
}
