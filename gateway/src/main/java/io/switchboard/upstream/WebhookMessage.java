package io.switchboard.upstream;

/**
 * One message offered to a {@link WebhookSink}; owned by whoever removed it from the {@link WebhookInbox} (the
 * owner thread, or an offer that raced with {@code close()}). Immutable.
 */
final class WebhookMessage {
    final String clientId;
    final String sendId;
    /** The topic of an MQTT PUBLISH, or null for a SWB/1 SEND. */
    final String topic;
    final byte[] payload;
    final UpstreamSink.Callback callback;
    final long receivedMs;

    WebhookMessage(String clientId, String sendId, String topic, byte[] payload, UpstreamSink.Callback callback,
                   long receivedMs) {
        this.clientId = clientId;
        this.sendId = sendId;
        this.topic = topic;
        this.payload = payload;
        this.callback = callback;
        this.receivedMs = receivedMs;
    }
}
