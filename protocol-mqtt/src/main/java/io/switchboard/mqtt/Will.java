package io.switchboard.mqtt;

import java.util.List;

/** The will message of a CONNECT. {@code delayIntervalSec} is v5's (0 otherwise). */
public record Will(String topic, byte[] payload, int qos, boolean retain, long delayIntervalSec,
                   List<UserProperty> userProperties) {
}
