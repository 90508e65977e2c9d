package io.switchboard.mqtt;

/** An MQTT 5 user property: a name-value pair of UTF-8 strings; a packet may carry several with the same name. */
public record UserProperty(String name, String value) {
}
