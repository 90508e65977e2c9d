package io.switchboard.mqtt;

import java.util.List;

/**
 * The MQTT 5 properties of an application message that a server passes on to its subscribers unaltered (MQTT 5
 * 3.3.2.3): of a PUBLISH, or of a CONNECT's will. Topic Alias and Subscription Identifier are not among them: they
 * belong to one connection.
 *
 * @param payloadFormat    0 (bytes) or 1 (UTF-8), null when absent
 * @param messageExpirySec seconds, -1 when absent; a server sends what is left of it
 * @param contentType      null when absent
 * @param responseTopic    a valid topic name, null when absent
 * @param correlationData  null when absent
 * @param userProperties   in order, empty when none
 */
public record PublishProperties(Integer payloadFormat, long messageExpirySec, String contentType, String responseTopic,
                                byte[] correlationData, List<UserProperty> userProperties) {
    /** No property at all (every 3.1.1 message). */
    public static final PublishProperties NONE = new PublishProperties(null, -1, null, null, null, List.of());

    /** Only user properties (none: {@link #NONE}). */
    public static PublishProperties user(List<UserProperty> userProperties) {
        return userProperties.isEmpty() ? NONE : new PublishProperties(null, -1, null, null, null, userProperties);
    }

    /** These properties with {@code messageExpirySec} instead (-1: absent). */
    public PublishProperties withMessageExpiry(long sec) {
        return new PublishProperties(payloadFormat, sec, contentType, responseTopic, correlationData, userProperties);
    }

    /** Whether none is present. */
    public boolean isEmpty() {
        return payloadFormat == null && messageExpirySec < 0 && contentType == null && responseTopic == null
                && correlationData == null && userProperties.isEmpty();
    }

    static PublishProperties of(Properties p) {
        Integer format = p.has(Properties.PAYLOAD_FORMAT) ? (int) p.number(Properties.PAYLOAD_FORMAT, 0) : null;
        PublishProperties read = new PublishProperties(format, p.number(Properties.MESSAGE_EXPIRY, -1),
                p.string(Properties.CONTENT_TYPE), p.string(Properties.RESPONSE_TOPIC),
                p.binary(Properties.CORRELATION_DATA), p.user());
        return read.isEmpty() ? NONE : read;
    }
}
