package io.switchboard.upstream;

/**
 * Where client {@code SEND} frames go: the backend's sink. The gateway answers {@code SENT <id>} only
 * after {@link Callback#accepted()} and {@code NACK <id> <code> <text>} after {@link Callback#refused}.
 *
 * <p>{@link #offer} is called on event-loop threads and must never block; the callback runs exactly once,
 * on any thread (the gateway hands it back to the connection's own loop).
 */
public interface UpstreamSink extends AutoCloseable {

    /**
     * Offers one upstream message.
     *
     * @param clientId the sending client's id
     * @param sendId   the client's {@code SEND} id (echoed in {@code SENT}/{@code NACK})
     * @param payload  the payload bytes; the sink owns this array from now on
     * @param callback told exactly once whether the backend accepted the message
     */
    default void offer(String clientId, String sendId, byte[] payload, Callback callback) {
        offer(clientId, sendId, null, payload, callback);
    }

    /**
     * Offers one upstream message published to {@code topic} (an MQTT client's PUBLISH), or with no topic (null:
     * a SWB/1 {@code SEND}); otherwise as {@link #offer(String, String, byte[], Callback)}.
     */
    void offer(String clientId, String sendId, String topic, byte[] payload, Callback callback);

    /**
     * What the sink counts, for {@code /v1/stats} and {@code /metrics}, in a fixed order: counters ({@code offered},
     * {@code accepted}, {@code refused_<reason>}, ...) and gauges ({@code buffered_...}). Empty: nothing to count.
     */
    default java.util.Map<String, Long> stats() {
        return java.util.Map.of();
    }

    /** Stops accepting, refuses what is still buffered after a short flush attempt, and releases threads. */
    @Override
    void close();

    /** Outcome of one offered message. */
    interface Callback {
        void accepted();

        /** @param code a protocol code such as 503 (no upstream / overloaded) or 502 (backend refused) */
        void refused(int code, String reason);
    }

    /** {@code --upstream} not set: every SEND is refused with 503. */
    UpstreamSink NONE = new UpstreamSink() {
        @Override
        public void offer(String clientId, String sendId, String topic, byte[] payload, Callback callback) {
            callback.refused(503, "no upstream configured");
        }

        @Override
        public void close() {}
    };
}
