package io.switchboard.mqtt;

import java.util.List;

/**
 * CONNECT: the first packet of every connection.
 *
 * @param version              the protocol level: {@link MqttVersion#V31} (3.1, protocol name MQIsdp),
 *                             {@link MqttVersion#V311} or {@link MqttVersion#V5}; what to pass to
 *                             {@link MqttDecoder#decode} and {@link MqttEncoder} for the rest of the connection
 * @param clientId             may be empty (the server then assigns one, or refuses)
 * @param cleanStart           v5's clean start, 3.1.1's clean session
 * @param keepAliveSec         0: no keep-alive
 * @param username             null when absent
 * @param password             null when absent (v5 allows one without a user name)
 * @param will                 null when absent
 * @param sessionExpirySec     v5: seconds the session outlives the connection (0 when absent: it ends with it;
 *                             0xFFFFFFFF: never expires)
 * @param receiveMaximum       v5: QoS 1 and 2 messages the client takes unacknowledged (65535 when absent and in 3.1.1)
 * @param maximumPacketSize    v5: the largest packet the client accepts, 0 when absent (no limit but MQTT's)
 * @param topicAliasMaximum    v5: topic aliases the client accepts from the server (0 when absent: none)
 * @param requestProblemInformation v5: whether reason strings and user properties may be sent on any packet (true
 *                             when absent)
 * @param userProperties       v5, empty when none
 * @param authenticationMethod v5 enhanced authentication, null when absent
 */
public record Connect(int version, String clientId, boolean cleanStart, int keepAliveSec, String username,
                      byte[] password, Will will, long sessionExpirySec, int receiveMaximum, long maximumPacketSize,
                      int topicAliasMaximum, boolean requestProblemInformation, List<UserProperty> userProperties,
                      String authenticationMethod) implements MqttPacket {
}
