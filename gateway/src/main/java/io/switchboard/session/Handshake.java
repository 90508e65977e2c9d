package io.switchboard.session;


/**
 * A connection waiting for its session after a valid {@code HELLO}. The registry calls {@link #complete} on the
 * connection's own loop once the session belongs to that loop (at once for a new client; after the older
 * connection was told {@code BYE 409} for a takeover).
 */
public interface Handshake {
    /** The shard of the connection's event loop. */
    SessionShard shard();

    /** False once the connection closed while waiting. */
    boolean open();

    /** Binds the session ({@link Session#attach}), writes the welcome, then pumps queued messages. */
    void complete(Session session);

    /** A newer connection of the same client claimed the session first: tell this one {@code BYE 409} and close. */
    void superseded();

    /**
     * The session could not be had (in a cluster: the shared directory is unreachable): tell this connection
     * {@code BYE 503 reason} and close; the client retries after its backoff. Only a cluster calls it.
     */
    default void unavailable(String reason) {
        superseded();
    }
}
