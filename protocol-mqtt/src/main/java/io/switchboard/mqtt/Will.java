package io.switchboard.mqtt;

import java.util.List;

/**
 * The will message of a CONNECT: published by the server when the connection ends without a normal DISCONNECT.
 *
 * @param topic            a valid topic name
 * @param qos              0, 1 or 2
 * @param delayIntervalSec v5's will delay interval, 0 when absent and in 3.1.1
 * @param properties       v5's message properties (payload format, message expiry, content type, response topic,
 *                         correlation data, user properties), {@link PublishProperties#NONE} when none
 */
public record Will(String topic, byte[] payload, int qos, boolean retain, long delayIntervalSec,
                   PublishProperties properties) {
    /** A will with user properties alone. */
    public Will(String topic, byte[] payload, int qos, boolean retain, long delayIntervalSec,
                List<UserProperty> userProperties) {
        this(topic, payload, qos, retain, delayIntervalSec, PublishProperties.user(userProperties));
    }

    /** v5, empty when none. */
    public List<UserProperty> userProperties() {
        return properties.userProperties();
    }
}
