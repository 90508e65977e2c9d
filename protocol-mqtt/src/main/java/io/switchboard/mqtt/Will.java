package io.switchboard.mqtt;

import java.util.List;

/**
 * The will message of a CONNECT: published by the server when the connection ends without a normal DISCONNECT.
 *
 * @param topic            a valid topic name
 * @param qos              0, 1 or 2
 * @param delayIntervalSec v5's will delay interval, 0 when absent and in 3.1.1
 * @param userProperties   v5, empty when none
 */
public record Will(String topic, byte[] payload, int qos, boolean retain, long delayIntervalSec,
                   List<UserProperty> userProperties) {
}
