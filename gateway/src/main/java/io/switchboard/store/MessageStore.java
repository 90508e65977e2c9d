package io.switchboard.store;

import io.switchboard.service.StoreStats;
import java.util.List;

/**
 * Where the gateway keeps stored messages (pushed with {@code ttl > 0}) until their client acknowledges them or they
 * expire, so that they outlive what the sessions hold in memory: the process (an on-disk log) or the node (Redis, in
 * a cluster). The session core still keeps every message it delivers in its own queue; a store only records them.
 *
 * <p>A push with a ttl is answered once {@link #append} completes, so an implementation decides what a 200 promises
 * (written, or on disk). A failed append is answered 503; the message may still reach a connected client (it was
 * queued first), so a backend that retries can cause a duplicate with a new seq, never a loss.
 *
 * <p>Threading: every call for one client comes from the event loop that owns its session at that moment, in seq
 * order; calls for different clients come from several loops at once. {@link Appended#done} may run on any thread.
 */
public interface MessageStore extends AutoCloseable {
    /**
     * Records one stored message; {@code done} runs once it is kept (or could not be), exactly once. A store that
     * has not reported within 10 s gets the push answered 503 regardless (what it reports later is ignored).
     */
    void append(String clientId, long seq, long expiresAtMs, byte[] payload, Appended done);

    /**
     * {@link #append} by the session that holds the client under {@code epoch} (in a cluster: its node's claim; 0 in
     * one process). A store shared by several nodes refuses the append when a newer claim took the client, so that a
     * node that lost a client can never write beside its new owner; a store of one process ignores the epoch.
     */
    default void append(String clientId, long epoch, long seq, long expiresAtMs, byte[] payload, Appended done) {
        append(clientId, seq, expiresAtMs, payload, done);
    }

    /** The client acknowledged every message up to {@code seq}: none of them needs keeping any more. */
    void acknowledged(String clientId, long seq);

    /** The gateway holds nothing more for {@code clientId} (its session ended): forget it. */
    void forget(String clientId);

    /**
     * Hands every client with messages still kept to {@code into}, once, at start, before any client connects; a
     * store that keeps nothing across restarts hands none.
     */
    void recover(Recovery into);

    /**
     * Whether a stored message of {@code payloadBytes} would take the store past its bound: such a push is refused
     * (507) before it is queued. About exact: pushes checked at the same moment may pass it by a few messages.
     */
    default boolean full(int payloadBytes) {
        return false;
    }

    /**
     * Why the store can keep no message any more until the process restarts (its writer stopped on an error), or
     * null; {@code /healthz} answers 503 with it, so that a load balancer or an orchestrator takes the process out.
     * Any thread.
     */
    default String broken() {
        return null;
    }

    /** What the store holds and how it performs, for the stats endpoints; any thread. */
    default StoreStats stats() {
        return StoreStats.memory();
    }

    @Override
    void close();

    /** Completion of {@link #append}. */
    @FunctionalInterface
    interface Appended {
        /** @param failure null when the message is kept; else why not */
        void done(Throwable failure);
    }

    /** Receives what a store kept across a restart. */
    @FunctionalInterface
    interface Recovery {
        /**
         * @param lastSeq  the highest seq this client was ever given (its next message gets a higher one)
         * @param messages its unacknowledged, unexpired messages in seq order
         */
        void client(String clientId, long lastSeq, List<Stored> messages);

        /**
         * The highest seq the store read of any client, also of those it keeps nothing for (their acknowledgements,
         * their messages acknowledged since): new sessions number above it, so that a client resuming after a
         * restart on a clock that went back is not given seqs at or below what it has. Once, after the clients.
         */
        default void highestSeq(long seq) {
        }
    }

    /** One message as a store keeps it. */
    record Stored(long seq, long expiresAtMs, byte[] payload) {
    }
}
