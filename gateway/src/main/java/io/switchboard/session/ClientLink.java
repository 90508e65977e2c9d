package io.switchboard.session;

/**
 * A session's live connection, as the protocol adapter exposes it to the protocol-independent session model.
 * Every method is called on the connection's own event loop.
 */
public interface ClientLink {
    /** Queues one message on the connection (no flush). */
    void writeMessage(Message m);

    /**
     * As {@link #writeMessage(Message)}; {@code again} when it was written before, to an earlier connection of the
     * session, and is sent again because it was not acknowledged (MQTT marks such a PUBLISH DUP).
     */
    default void writeMessage(Message m, boolean again) {
        writeMessage(m);
    }

    /**
     * Writes out what was queued: at the end of the loop's current work ({@link SessionShard#flushSoon}), so that
     * the pushes of one burst to this client leave in one write, or at once where the loop cannot defer it.
     */
    void flush();

    /** Writes out what was queued, now (a link that never defers its flush needs nothing more). */
    default void flushNow() {
        flush();
    }

    /** Whether the connection's outbound buffer is below its high-water mark. */
    boolean isWritable();

    /** Tells the client why ({@code BYE code text [retry=ms]}), flushes and closes. */
    void close(int code, String text, long retryMs);

    /** The client's address as {@code ip:port}. */
    String remoteAddress();

    /** The protocol the client speaks ({@code swb}, {@code mqtt}), for {@code GET /v1/clients/{id}}. */
    String protocol();

    /**
     * Messages this connection takes unacknowledged at most, below the server's window (MQTT 5's receive maximum);
     * unlimited by default.
     */
    default int windowLimit() {
        return Integer.MAX_VALUE;
    }

    /**
     * Whether the client has room for another message beyond those it holds unacknowledged by its own count, which
     * the queue's can fall behind: a message that expired in flight leaves the queue, though the client still holds
     * it until it acknowledges it (MQTT 5's receive maximum counts it). Always by default.
     */
    default boolean hasRoom() {
        return true;
    }

    /**
     * Whether the client acknowledges messages pushed with ttl 0 (SWB/1's cumulative ACK covers them); false for
     * MQTT, where QoS 0 has no acknowledgement: such a message then counts as delivered once written, unless an
     * unacknowledged one is ahead of it (the cumulative acknowledgement of that one covers it).
     */
    default boolean acknowledgesTransient() {
        return true;
    }

    /**
     * Whether this connection can take {@code m} at all: false when it is larger than the client said it accepts
     * (MQTT 5's Maximum Packet Size). A push the connected client could never receive is refused (413) instead of
     * being answered 200 and then not sent. True by default.
     */
    default boolean takes(Message m) {
        return true;
    }
}
