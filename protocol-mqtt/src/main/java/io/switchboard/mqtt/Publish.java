package io.switchboard.mqtt;

import java.util.List;

/**
 * PUBLISH from a client.
 *
 * @param topic            a valid topic name; empty only in v5 with a topic alias (whose topic the caller knows)
 * @param payload          the application message, possibly empty
 * @param qos              0, 1 or 2
 * @param dup              a resend (never at QoS 0)
 * @param packetId         1 to 65535, 0 at QoS 0
 * @param topicAlias       v5, 0 when absent
 * @param messageExpirySec v5, -1 when absent
 * @param userProperties   v5, empty when none
 * @param contentType      v5, null when absent
 * @param responseTopic    v5, a valid topic name or null when absent
 * @param correlationData  v5, null when absent
 * @param payloadFormat    v5, null when absent (0 bytes, 1 UTF-8: not checked here, a server may)
 */
public record Publish(String topic, byte[] payload, int qos, boolean retain, boolean dup, int packetId,
                      int topicAlias, long messageExpirySec, List<UserProperty> userProperties, String contentType,
                      String responseTopic, byte[] correlationData, Integer payloadFormat) implements MqttPacket {
    /** The properties a server passes on to subscribers (all but the topic alias). */
    public PublishProperties properties() {
        PublishProperties p = new PublishProperties(payloadFormat, messageExpirySec, contentType, responseTopic,
                correlationData, userProperties);
        return p.isEmpty() ? PublishProperties.NONE : p;
    }
}
