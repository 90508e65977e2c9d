package io.switchboard.mqtt;

import java.util.List;

/** SUBSCRIBE: at least one filter. {@code subscriptionIdentifier} is v5's, 0 when absent. */
public record Subscribe(int packetId, List<Subscription> subscriptions, int subscriptionIdentifier,
                        List<UserProperty> userProperties) implements MqttPacket {
}
