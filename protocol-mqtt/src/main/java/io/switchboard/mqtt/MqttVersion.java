package io.switchboard.mqtt;

/** MQTT protocol levels, as CONNECT carries them. */
public final class MqttVersion {
    /** MQTT 3.1 ("MQIsdp"): decoded like 3.1.1. */
    public static final int V31 = 3;
    public static final int V311 = 4;
    public static final int V5 = 5;

    private MqttVersion() {
    }
}
