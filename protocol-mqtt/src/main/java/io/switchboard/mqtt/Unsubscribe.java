package io.switchboard.mqtt;

import java.util.List;

/** UNSUBSCRIBE: at least one filter. */
public record Unsubscribe(int packetId, List<String> filters, List<UserProperty> userProperties)
        implements MqttPacket {
}
