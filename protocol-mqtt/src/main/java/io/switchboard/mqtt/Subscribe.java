package io.switchboard.mqtt;

import java.util.List;

/**
 * SUBSCRIBE: at least one filter, each with its options, answered by one SUBACK code each, in order.
 *
 * @param packetId               1 to 65535
 * @param subscriptionIdentifier v5's subscription identifier (1 to 268,435,455), 0 when absent
 * @param userProperties         v5, empty when none
 */
public record Subscribe(int packetId, List<Subscription> subscriptions, int subscriptionIdentifier,
                        List<UserProperty> userProperties) implements MqttPacket {
}
