package io.switchboard.mqtt;

import java.util.List;

/**
 * PUBLISH from a client.
 *
 * @param topic             empty only in v5 with a topic alias
 * @param packetId          0 for QoS 0
 * @param topicAlias        v5, 0 when absent
 * @param messageExpirySec  v5, -1 when absent
 * @param payloadFormat     v5, null when absent (0 bytes, 1 UTF-8)
 */
public record Publish(String topic, byte[] payload, int qos, boolean retain, boolean dup, int packetId,
                      int topicAlias, long messageExpirySec, List<UserProperty> userProperties, String contentType,
                      String responseTopic, byte[] correlationData, Integer payloadFormat) implements MqttPacket {
}
