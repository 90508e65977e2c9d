package io.switchboard.mqtt;

/** MQTT protocol levels, as CONNECT carries them. */
public final class MqttVersion {
    /** MQTT 3.1 (protocol name "MQIsdp"): decoded and encoded like 3.1.1, but for CONNACK's session present flag. */
    public static final int V31 = 3;
    /** MQTT 3.1.1 (protocol name "MQTT"). */
    public static final int V311 = 4;
    /** MQTT 5 (protocol name "MQTT"). */
    public static final int V5 = 5;

    private MqttVersion() {
    }
}
