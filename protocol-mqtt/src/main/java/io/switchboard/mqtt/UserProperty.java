package io.switchboard.mqtt;

/** An MQTT 5 user property: a name-value pair; a packet may carry several with the same name. */
public record UserProperty(String name, String value) {
}
