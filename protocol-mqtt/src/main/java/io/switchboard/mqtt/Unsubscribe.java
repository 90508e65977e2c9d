package io.switchboard.mqtt;

import java.util.List;

/**
 * UNSUBSCRIBE: at least one filter (each syntactically valid), answered by one UNSUBACK.
 *
 * @param packetId       1 to 65535
 * @param userProperties v5, empty when none
 */
public record Unsubscribe(int packetId, List<String> filters, List<UserProperty> userProperties)
        implements MqttPacket {
}
