package io.switchboard.session;

import io.switchboard.loop.Loop;

/**
 * A client connection as its session shard sees it, whatever its protocol: a member of the shard's loop (for
 * broadcasts and drains), with a deadline on the loop's wheel (handshake, idle, close grace), bound to a session
 * once its handshake completed.
 */
public interface ShardMember extends Loop.Member, Loop.Timed {
    /** The session once the handshake completed, else {@code null}. */
    Session session();

    /** The server is draining: ask the client to come back after {@code retryMs}, then close. */
    void drain(long retryMs);

    /** The server stops: close the connection at once, without a goodbye. On the loop. */
    void closeNow();
}
