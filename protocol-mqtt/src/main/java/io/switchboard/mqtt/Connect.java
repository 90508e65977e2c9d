package io.switchboard.mqtt;

import java.util.List;

/**
 * CONNECT.
 *
 * @param version             4 (3.1.1) or 5; 3 (3.1) is decoded as 3.1.1
 * @param password            null when absent
 * @param will                null when absent
 * @param sessionExpirySec    v5: seconds the session outlives the connection (0: ends with it)
 * @param receiveMaximum      v5: QoS 1 and 2 messages the client takes unacknowledged (65535 when absent)
 * @param maximumPacketSize   v5: the largest packet the client accepts, 0 when absent
 * @param topicAliasMaximum   v5: topic aliases the client accepts from the server
 * @param authenticationMethod v5 enhanced authentication, null when absent
 */
public record Connect(int version, String clientId, boolean cleanStart, int keepAliveSec, String username,
                      byte[] password, Will will, long sessionExpirySec, int receiveMaximum, long maximumPacketSize,
                      int topicAliasMaximum, boolean requestProblemInformation, List<UserProperty> userProperties,
                      String authenticationMethod) implements MqttPacket {
}
