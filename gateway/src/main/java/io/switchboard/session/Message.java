package io.switchboard.session;

/**
 * One accepted push: its per-client sequence number, payload and expiry. Immutable; shared by
 * the delivery queue and the write path.
 *
 * @param expiresAtMs epoch ms after which a retained message is dropped; 0 for a {@code ttl=0} message,
 *                    which is delivered only to the current connection and never re-sent
 * @param topic       the topic it was published to, or null for a push to the client itself (protocols that name
 *                    topics on the wire, such as MQTT, need it)
 * @param properties  what the publisher attached besides the payload (MQTT 5 PUBLISH properties), passed on to
 *                    protocols that carry them; null when none
 * @param share      its payload when many messages hold the same array (a broadcast's, a topic message's): counted
 *                    once by the budget of queued bytes while any of them is queued; null for a payload of its own
 */
public record Message(long seq, byte[] payload, long expiresAtMs, String topic, MessageProperties properties,
                      SharedPayload share) {
    public Message(long seq, byte[] payload, long expiresAtMs) {
        this(seq, payload, expiresAtMs, null, null, null);
    }

    public Message(long seq, byte[] payload, long expiresAtMs, String topic) {
        this(seq, payload, expiresAtMs, topic, null, null);
    }

    public Message(long seq, byte[] payload, long expiresAtMs, String topic, MessageProperties properties) {
        this(seq, payload, expiresAtMs, topic, properties, null);
    }

    /**
     * The expiry of a message skipped as expired behind one in flight: counted as expired when skipped, left in the
     * queue until an acknowledgement passes it, then neither counted as acknowledged nor as expired again.
     */
    static final long SKIPPED = Long.MIN_VALUE;
    /** As {@link #SKIPPED}, for a ttl 0 message (one past the expiry its publisher gave it): still not stored. */
    static final long SKIPPED_TRANSIENT = Long.MIN_VALUE + 1;

    /** This message as skipped (see {@link #SKIPPED}). */
    Message skipped() {
        return new Message(seq, payload, stored() ? SKIPPED : SKIPPED_TRANSIENT, topic, properties, share);
    }

    boolean wasSkipped() {
        return expiresAtMs == SKIPPED || expiresAtMs == SKIPPED_TRANSIENT;
    }

    /** Its payload's bytes and its properties' (what the budgets of queued bytes count). */
    public long bytes() {
        return payload.length + (properties == null ? 0 : properties.bytes());
    }

    public boolean stored() {
        return expiresAtMs != 0 && expiresAtMs != SKIPPED_TRANSIENT;
    }

    /**
     * Whether it is past its ttl, or past the expiry its publisher gave it (MQTT 5 Message Expiry: a topic message
     * not yet written when it passes is not sent, to any protocol's subscriber).
     */
    public boolean expired(long nowMs) {
        return expiresAtMs != 0 && nowMs >= expiresAtMs || properties != null && properties.expired(nowMs);
    }
}
