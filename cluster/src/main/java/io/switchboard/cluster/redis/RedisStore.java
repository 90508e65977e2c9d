package io.switchboard.cluster.redis;

import io.switchboard.store.MessageStore;
import java.util.concurrent.atomic.LongAdder;

/**
 * Stored messages in a cluster: kept in Redis beside the client's record, so that they outlive the node that took
 * them and a client resumes them on whichever node it reconnects to. An append is fenced by the claim's epoch (a node
 * that lost the client to a newer claim cannot add to its messages) and answered once Redis ran it; what Redis
 * promises after that depends on its persistence (docs/cluster.md). Bounded per client by
 * {@code --max-queued-messages} (the sessions refuse beyond it) and overall by Redis's {@code maxmemory}.
 *
 * <p>Thread-safe.
 */
final class RedisStore implements MessageStore {
    /** Acknowledged messages dropped per script run; a longer run of them is dropped by the next acknowledgement. */
    private static final byte[] ACK_BATCH = Script.bytes(10_000);

    private final RedisCluster cluster;
    final LongAdder appends = new LongAdder();
    final LongAdder fenced = new LongAdder();
    private final RedisDirectory directory;

    RedisStore(RedisCluster cluster, RedisDirectory directory) {
        this.cluster = cluster;
        this.directory = directory;
    }

    @Override
    public void append(String clientId, long seq, long expiresAtMs, byte[] payload, Appended done) {
        append(clientId, 0, seq, expiresAtMs, payload, done); // no claim: refused by the fence, as it must be
    }

    @Override
    public void append(String clientId, long epoch, long seq, long expiresAtMs, byte[] payload, Appended done) {
        long ttlMs = Math.max(1, expiresAtMs - cluster.clock.nowMs());
        cluster.append.<Long>run(cluster.redis(), Keys.client(clientId), Script.bytes(cluster.node),
                Script.bytes(epoch), Script.bytes(seq), Script.bytes(expiresAtMs), payload, Script.bytes(ttlMs))
                .whenComplete((kept, e) -> {
                    if (e != null) {
                        cluster.redisFailed("storing a message", e);
                        done.done(new IllegalStateException("Redis: " + RedisCluster.reason(e)));
                    } else if (kept == 1L) {
                        cluster.redisBack();
                        appends.increment();
                        done.done(null);
                    } else if (kept == 2L) {
                        // Not said while the client resumes the message kept meanwhile (the next claim clears it).
                        fenced.increment();
                        directory.sendToResume(clientId, epoch);
                        done.done(new IllegalStateException("a message was kept for this client while this node was "
                                + "taken for dead: the client resumes it first; retry"));
                    } else {
                        // A claim made since names another node, or another connection here. Its node tells this
                        // one to let go (TakenOver), but should that never come (a claim Redis ran after its node
                        // gave up on it, a node gone meanwhile), pushes would be kept for the client beside this
                        // session and never reach it: the client is sent to connect again, and claims anew.
                        fenced.increment();
                        directory.sendToResume(clientId, epoch);
                        done.done(new IllegalStateException("the client was claimed by another connection meanwhile"));
                    }
                });
    }

    @Override
    public void acknowledged(String clientId, long seq) {
        cluster.ack.<Long>run(cluster.redis(), new byte[][] {Keys.stored(clientId), Keys.record(clientId)},
                Script.bytes(seq), ACK_BATCH)
                .whenComplete((n, e) -> {
                    if (e != null) {
                        // Not lost: the messages stay kept and are sent again on the next connection, which
                        // skips what it resumes from.
                        cluster.redisFailed("dropping acknowledged messages", e);
                    }
                });
    }

    @Override
    public void forget(String clientId) {
        // The session left this node; its stored messages and record are the cluster's, and expire on their own.
    }

    @Override
    public void recover(Recovery into) {
        // Nothing to hand over at start: a client's messages are loaded when a node claims it.
    }

    @Override
    public void close() {
        // The connection is the cluster's, closed with it.
    }
}
