package io.switchboard.cluster.redis;

import io.lettuce.core.KeyValue;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases the clients a forgotten node still held in Redis. A node that was killed released none of its clients:
 * their records go on naming it, counted offline (pushes keep messages for them) but with no expiry, so a client
 * that never comes back (a device retired, an app removed) kept its record for good, one more per client for every
 * killed node. This walks the records with {@code SCAN}, {@link #BATCH} keys every {@link #PAUSE_MS} ms so that Redis
 * serves everyone else in between, and releases each record that still names the node, under the epoch it read
 * ({@code release.lua}: a client that came back meanwhile holds a newer epoch and is left alone). A released record
 * expires as any offline client's does (after {@link RedisCluster#KEEP_OFFLINE_RECORD_MS}, or its stored messages'
 * expiry if later). Started by the node whose {@code SREM} took the forgotten node off the list, so one sweep runs
 * per forgotten node; a Redis failure pauses it ({@link #RETRY_MS}), the cluster's close ends it. Its steps run on
 * Lettuce's threads and the cluster's timer, one after another.
 */
final class ForgottenNodeSweep {
    private static final Logger log = LoggerFactory.getLogger(ForgottenNodeSweep.class);
    static final int BATCH = 500;
    static final long PAUSE_MS = 50;
    static final long RETRY_MS = 5_000;
    /** Every client record, {@code swb:{<id>}:o} ({@link Keys#record}); braces are not special to SCAN's MATCH. */
    private static final String RECORDS = new String(Keys.record("*"), java.nio.charset.StandardCharsets.UTF_8);
    private static final byte[] NODE = Script.bytes("n");
    private static final byte[] EPOCH = Script.bytes("e");
    private static final byte[] NO_SEQ = Script.bytes(0L);
    private static final byte[] KEEP_OFFLINE_RECORD_MS = Script.bytes(RedisCluster.KEEP_OFFLINE_RECORD_MS);

    private final RedisCluster cluster;
    private final String node;
    private final byte[] nodeBytes;
    private final long startedNs = System.nanoTime();
    private long lookedAt;
    private long released;
    private boolean failing;

    private ForgottenNodeSweep(RedisCluster cluster, String node) {
        this.cluster = cluster;
        this.node = node;
        this.nodeBytes = Script.bytes(node);
    }

    /** Starts releasing {@code node}'s clients; returns at once. */
    static void start(RedisCluster cluster, String node) {
        log.info("cluster: releasing the clients forgotten node {} still holds in Redis", node);
        new ForgottenNodeSweep(cluster, node).step(ScanCursor.INITIAL);
    }

    private void step(ScanCursor cursor) {
        if (cluster.closed()) {
            return;
        }
        RedisAsyncCommands<byte[], byte[]> redis = cluster.redis();
        redis.scan(cursor, ScanArgs.Builder.matches(RECORDS).limit(BATCH)).toCompletableFuture()
                .thenCompose(page -> releaseOwned(redis, page.getKeys()).thenApply(n -> page))
                .whenComplete((page, e) -> {
                    if (e != null) {
                        if (!failing) { // once per outage: Redis failures are logged by the cluster too
                            log.warn("cluster: releasing the clients of forgotten node {} paused ({}); tried again "
                                    + "every {} s", node, RedisCluster.reason(e), RETRY_MS / 1000);
                        }
                        failing = true;
                        cluster.timer().schedule(() -> step(cursor), RETRY_MS, TimeUnit.MILLISECONDS);
                        return;
                    }
                    failing = false;
                    if (page.isFinished()) {
                        log.info("cluster: released {} clients forgotten node {} still held ({} client records "
                                + "looked at in {} s)", released, node, lookedAt,
                                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNs));
                    } else {
                        cluster.timer().schedule(() -> step(page), PAUSE_MS, TimeUnit.MILLISECONDS);
                    }
                });
    }

    /** Releases the records among {@code keys} that name the node; completes when all answered. */
    private CompletableFuture<Void> releaseOwned(RedisAsyncCommands<byte[], byte[]> redis, List<byte[]> keys) {
        List<CompletableFuture<Long>> releases = new ArrayList<>(keys.size());
        for (byte[] record : keys) {
            releases.add(redis.hmget(record, NODE, EPOCH).toCompletableFuture().thenCompose(fields -> {
                KeyValue<byte[], byte[]> owner = fields.get(0);
                KeyValue<byte[], byte[]> epoch = fields.get(1);
                if (!owner.hasValue() || !Arrays.equals(owner.getValue(), nodeBytes) || !epoch.hasValue()) {
                    return CompletableFuture.completedFuture(0L);
                }
                return cluster.release.<Long>run(redis, new byte[][] {record, storedKey(record)}, nodeBytes,
                        epoch.getValue(), NO_SEQ, KEEP_OFFLINE_RECORD_MS);
            }).exceptionallyCompose(e -> {
                // A key that is not a client record after all (WRONGTYPE) is passed over. Anything else
                // (disconnected, a timeout, Redis still loading) fails the batch, which is tried again.
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e;
                return cause instanceof io.lettuce.core.RedisCommandExecutionException
                        && String.valueOf(cause.getMessage()).startsWith("WRONGTYPE")
                        ? CompletableFuture.completedFuture(0L) : CompletableFuture.failedFuture(cause);
            }));
        }
        return CompletableFuture.allOf(releases.toArray(CompletableFuture[]::new)).thenRun(() -> {
            lookedAt += keys.size();
            for (CompletableFuture<Long> r : releases) {
                released += r.join();
            }
        });
    }

    /** The stored-messages key beside a record: {@code swb:{<id>}:q} for {@code swb:{<id>}:o}. */
    static byte[] storedKey(byte[] record) {
        byte[] stored = record.clone();
        stored[stored.length - 1] = 'q';
        return stored;
    }
}
