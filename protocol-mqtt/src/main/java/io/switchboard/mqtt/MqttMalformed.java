package io.switchboard.mqtt;

/**
 * A packet that breaks the protocol: what MQTT 5 would say about it ({@link #reasonCode()}: malformed packet,
 * protocol error, packet too large, unsupported protocol version, ...) and a short text for the log and the
 * reason string. Cheap: no stack trace.
 */
public final class MqttMalformed extends Exception {
    private final int reasonCode;

    public MqttMalformed(int reasonCode, String message) {
        super(message, null, false, false);
        this.reasonCode = reasonCode;
    }

    public int reasonCode() {
        return reasonCode;
    }
}
