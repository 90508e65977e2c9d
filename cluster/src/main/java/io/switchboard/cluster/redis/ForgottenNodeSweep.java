package io.switchboard.cluster.redis;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases the clients a forgotten node still held in Redis, and removes the topic subscriber entries of its
 * processes. A node that was killed released none of its clients:
 * their records go on naming it, counted offline (pushes keep messages for them) but with no expiry, so a client
 * that never comes back (a device retired, an app removed) kept its record for good, one more per client for every
 * killed node. Nor did it remove its entries from the topics' subscriber sets ({@code "node process"}): a publish skips
 * the entries of a node without a lease but keeps them (the process may be paused), so a killed node's entries stayed
 * for good, one per topic filter its clients subscribed to (per-device topics: one per client) for every node an
 * orchestrator ever named anew. This walks the cluster's keys with {@code SCAN}, {@link #BATCH} keys every
 * {@link #PAUSE_MS} ms so that Redis serves everyone else in between; it releases each record that still names the
 * node under an epoch older than the sweep's start, with that epoch ({@code release.lua}: a client claimed meanwhile,
 * elsewhere or by a new process of the same name, holds a newer epoch and is left alone), and removes from each
 * subscriber set (and the wildcard nodes' set) the entries of every process of the node's name, and entries of the
 * old form (the bare name), when no process of the name holds its lease once they were read (see
 * {@link #removeEntries}: a new process of the name has entries of its own, left alone). A new process of that name
 * holding its lease stops the sweep.
 * A released record expires as any offline client's does (after {@link RedisCluster#KEEP_OFFLINE_RECORD_MS}, or its
 * stored messages' expiry if later). Started by the node whose {@code SREM} took the forgotten node off the list, so
 * one sweep runs per forgotten node. Its place is kept in Redis ({@link Keys#SWEEPS}: the fence, the SCAN cursor
 * after the last batch and the node sweeping), written after every batch only if it still reads as this sweep last
 * wrote it: when the sweeping node dies (or leaves), another finds the entry without a lease beside it and carries
 * the sweep on from that cursor under the same fence ({@link #carryOnOrphans}, one node wins the script that takes it
 * over); a sweep that finds its entry taken stops. Redis gone or slow pauses it ({@link #RETRY_MS}); Redis refusing
 * it (no permission) ends it and its entry; the cluster's close leaves its entry for another node. Its steps run on
 * Lettuce's threads and the cluster's timer, one after another.
 */
final class ForgottenNodeSweep {
    private static final Logger log = LoggerFactory.getLogger(ForgottenNodeSweep.class);
    static final int BATCH = 500;
    static final long PAUSE_MS = 50;
    static final long RETRY_MS = 5_000;
    private static final byte[] NODE = Script.bytes("n");
    private static final byte[] EPOCH = Script.bytes("e");
    private static final byte[] NO_SEQ = Script.bytes(0L);
    private static final byte[] KEEP_OFFLINE_RECORD_MS = Script.bytes(RedisCluster.KEEP_OFFLINE_RECORD_MS);
    /** Sweeps of this process that looked at every record; for tests. */
    static final java.util.concurrent.atomic.AtomicLong FINISHED = new java.util.concurrent.atomic.AtomicLong();

    private final RedisCluster cluster;
    private final String node;
    private final byte[] nodeBytes;
    /** The forgotten node's last process ({@code ""}: unknown), kept in the sweep's entry. */
    private final String process;
    /**
     * Redis's clock when the sweep began, in µs: a claim's epoch is Redis's clock then (or one more than the last),
     * so a record claimed since (a new process of the same name) has an epoch at least this and is left alone.
     */
    private final long fenceUs;
    private final long startedNs = System.nanoTime();
    /**
     * Sweeping the records earlier processes of this very node left ({@link #startOwn}): no entry in Redis, no topic
     * subscriber entries, and it goes on while this process holds the lease (stops when it does not).
     */
    private final boolean own;
    /** This sweep's entry in {@link Keys#SWEEPS} as it last wrote it. */
    private String entry;
    private long lookedAt;
    private long released;
    private long entriesRemoved;
    private boolean wildcardsSwept;
    private long errors;
    private boolean failing;

    private ForgottenNodeSweep(RedisCluster cluster, String node, String process, long fenceUs, String entry) {
        this(cluster, node, process, fenceUs, entry, false);
    }

    private ForgottenNodeSweep(RedisCluster cluster, String node, String process, long fenceUs, String entry,
                               boolean own) {
        this.own = own;
        this.wildcardsSwept = own;
        this.cluster = cluster;
        this.node = node;
        this.nodeBytes = Script.bytes(node);
        this.process = process;
        this.fenceUs = fenceUs;
        this.entry = entry;
    }

    /**
     * The entry of a sweep of {@code fenceUs} that goes on after {@code cursor}, carried by {@code sweeper}, of a node
     * whose last process was {@code process}.
     */
    static String entry(long fenceUs, String cursor, String sweeper, String process) {
        return fenceUs + " " + cursor + " " + sweeper + " " + process;
    }

    /**
     * Starts releasing {@code node}'s clients and removing the topic subscriber entries of its processes (the last
     * one {@code process}, {@code ""} when unknown: kept in the sweep's entry); returns at once.
     */
    static void start(RedisCluster cluster, String node, String process) {
        cluster.redis().time().toCompletableFuture().whenComplete((time, e) -> {
            if (e != null) {
                log.warn("cluster: could not start releasing the clients of forgotten node {} ({}): their records "
                        + "stay until each client connects again", node, RedisCluster.reason(e));
                return;
            }
            long fenceUs = Long.parseLong(ascii(time.get(0))) * 1_000_000 + Long.parseLong(ascii(time.get(1)));
            log.info("cluster: releasing the clients forgotten node {} still holds in Redis, and removing the topic "
                    + "subscriber entries of its processes", node);
            begin(cluster, node, process, entry(fenceUs, ScanCursor.INITIAL.getCursor(), cluster.node, process),
                    fenceUs);
        });
    }

    /**
     * Releases the clients earlier processes of this node's name still hold in Redis, when the last of them did not
     * leave cleanly (killed, or taken for dead): a process restarted under the same name (as a supervisor does) keeps
     * the name from ever going long enough without a lease to be forgotten and swept, so the records of its clients
     * that never came back (devices retired) named it for good, with no expiry, and the API answered them "online".
     * Records claimed since this process joined have a newer epoch and are left alone; topic subscriber entries of
     * earlier processes are removed by publishers (their process no longer holds the lease). {@code fenceUs}: Redis's
     * clock as this process took the lease. Returns at once; runs while this process holds the lease.
     */
    static void startOwn(RedisCluster cluster, String lastProcess, long fenceUs) {
        log.info("cluster: the last process of node {} ({}) did not leave cleanly: releasing the clients it still "
                + "holds in Redis that have not connected again", cluster.node, lastProcess);
        new ForgottenNodeSweep(cluster, cluster.node, lastProcess, fenceUs, "", true).step(ScanCursor.INITIAL);
    }

    /**
     * Writes a new sweep's entry, then its first batch; Redis failing, the entry again every {@link #RETRY_MS}
     * (each later write expects it). Only the node whose SREM took the forgotten node off the list gets here: the
     * entry is written as is.
     */
    private static void begin(RedisCluster cluster, String node, String process, String first, long fenceUs) {
        cluster.redis().hset(Keys.SWEEPS, Script.bytes(node), Script.bytes(first)).whenComplete((n, e) -> {
            if (cluster.closed()) {
                return;
            }
            if (e != null) {
                cluster.timer().schedule(() -> begin(cluster, node, process, first, fenceUs), RETRY_MS,
                        TimeUnit.MILLISECONDS);
            } else if (cluster.sweeping.add(node)) {
                new ForgottenNodeSweep(cluster, node, process, fenceUs, first).step(ScanCursor.INITIAL);
            }
        });
    }

    /**
     * Carries on the sweeps under way whose node holds no lease (it died, or left during one), from where each
     * wrote its place last, and those of this node's name that no sweep of this process carries (an earlier process
     * of the name was stopped during one). Every node looks; the script lets one take each. Returns at once.
     */
    static void carryOnOrphans(RedisCluster cluster) {
        cluster.redis().hgetall(Keys.SWEEPS).whenComplete((entries, e) -> {
            if (e != null || cluster.closed()) {
                return; // Redis failures are counted and logged by the lease refresh; looked at again later
            }
            java.util.Set<String> alive = cluster.aliveNodes();
            entries.forEach((k, v) -> {
                String node = new String(k, StandardCharsets.UTF_8);
                String seen = new String(v, StandardCharsets.UTF_8);
                String[] parts = seen.split(" ", 4);
                if (parts.length < 3 || cluster.sweeping.contains(node)) {
                    return;
                }
                String sweeper = parts[2];
                boolean mine = sweeper.equals(cluster.node);
                if (!mine && alive.contains(sweeper)) {
                    return;
                }
                long fenceUs;
                try {
                    fenceUs = Long.parseLong(parts[0]);
                } catch (NumberFormatException bad) {
                    return; // not written by a sweep: left alone
                }
                String cursor = parts[1];
                String process = parts.length > 3 ? parts[3] : ""; // an earlier version's entry does not say
                String taken = entry(fenceUs, cursor, cluster.node, process);
                cluster.sweep.<Long>run(cluster.redis(), new byte[][] {Keys.SWEEPS, Keys.lease(sweeper)},
                        k, v, Script.bytes(taken), Script.bytes(mine ? "0" : "1")).whenComplete((won, e2) -> {
                    if (e2 == null && won != null && won == 1 && !cluster.closed() && cluster.sweeping.add(node)) {
                        log.info("cluster: carrying on releasing the clients of forgotten node {} that node {} began "
                                + "({})", node, sweeper, mine ? "an earlier process of this name" : "it holds no lease");
                        new ForgottenNodeSweep(cluster, node, process, fenceUs, taken).step(ScanCursor.of(cursor));
                    }
                });
            });
        });
    }

    /** One batch: stops when a process of the node's name holds its lease again (it may be claiming clients). */
    private void step(ScanCursor cursor) {
        if (cluster.closed()) {
            return;
        }
        RedisAsyncCommands<byte[], byte[]> redis = cluster.redis();
        CompletableFuture<Boolean> goOn = own
                ? redis.get(Keys.lease(node)).toCompletableFuture()
                        .thenApply(holder -> holder != null && Arrays.equals(holder, Script.bytes(cluster.instance)))
                : redis.exists(Keys.lease(node)).toCompletableFuture().thenApply(leased -> leased == 0);
        goOn.thenCompose(yes -> !yes
                        ? CompletableFuture.<KeyScanCursor<byte[]>>completedFuture(null)
                        : redis.scan(cursor, ScanArgs.Builder.matches(Keys.EVERY_KEY).limit(BATCH))
                                .toCompletableFuture()
                                .thenCompose(page -> sweepBatch(redis, page.getKeys()).thenApply(n -> page)))
                .whenComplete((page, e) -> {
                    if (cluster.closed()) {
                        if (!own) {
                            cluster.sweeping.remove(node); // its entry stays: another node carries it on
                        }
                        return;
                    }
                    if (e != null) {
                        failed(cursor, e);
                    } else if (page == null && own) {
                        log.info("cluster: this process no longer holds node {}'s lease: stopped releasing the clients "
                                + "its earlier processes held ({} released)", node, released);
                    } else if (page == null) {
                        log.info("cluster: a process named {} holds its lease again: stopped releasing the clients "
                                + "the forgotten one held ({} released, {} topic subscriber entries removed)", node,
                                released, entriesRemoved);
                        end();
                    } else if (page.isFinished() && own) {
                        log.info("cluster: released {} clients earlier processes of node {} still held ({} keys "
                                + "looked at in {} s{})", released, node, lookedAt,
                                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNs),
                                errors == 0 ? "" : "; " + errors + " could not be read or released, left as they were");
                    } else if (page.isFinished()) {
                        FINISHED.incrementAndGet();
                        log.info("cluster: released {} clients forgotten node {} still held and removed {} of its "
                                + "topic subscriber entries ({} keys looked at in {} s{})", released, node,
                                entriesRemoved, lookedAt,
                                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNs),
                                errors == 0 ? "" : "; " + errors + " could not be read or released, left as they were");
                        end();
                    } else {
                        failing = false;
                        saveAndGoOn(page);
                    }
                });
    }

    /**
     * Writes the place after {@code page} in this sweep's entry, then the next batch after a pause; stops when the
     * entry is no longer as this sweep wrote it (another node took the sweep over while this one could not reach
     * Redis long enough to lose its lease).
     */
    private void saveAndGoOn(ScanCursor page) {
        if (own) { // nothing kept in Redis: the next process of the name sweeps again if this one dies
            cluster.timer().schedule(() -> step(page), PAUSE_MS, TimeUnit.MILLISECONDS);
            return;
        }
        String next = entry(fenceUs, page.getCursor(), cluster.node, process);
        writeEntry(next).whenComplete((written, e) -> {
            if (cluster.closed()) {
                cluster.sweeping.remove(node);
            } else if (e != null) {
                failed(page, e); // not saved: the entry still reads as before, and the next save expects that
            } else if (written) {
                entry = next;
                cluster.timer().schedule(() -> step(page), PAUSE_MS, TimeUnit.MILLISECONDS);
            } else {
                log.info("cluster: another node carries on releasing the clients of forgotten node {}: stopped here "
                        + "({} released)", node, released);
                cluster.sweeping.remove(node);
            }
        });
    }

    /** The sweep is over: its entry removed (if still this sweep's), the node free to be swept again. */
    private void end() {
        if (own) {
            return;
        }
        writeEntry("").whenComplete((written, e) -> cluster.sweeping.remove(node));
    }

    /** Replaces this sweep's entry ({@code ""}: removes it) if it still reads as this sweep last wrote it. */
    private CompletableFuture<Boolean> writeEntry(String next) {
        return cluster.sweep.<Long>run(cluster.redis(), new byte[][] {Keys.SWEEPS, Keys.lease(cluster.node)},
                Script.bytes(node), Script.bytes(entry), Script.bytes(next), Script.bytes("0"))
                .thenApply(n -> n != null && n == 1);
    }

    /** Redis gone or slow: the batch again in {@link #RETRY_MS}. Redis refusing (no permission to SCAN): stopped. */
    private void failed(ScanCursor cursor, Throwable e) {
        Throwable cause = Script.unwrap(e);
        if (refused(cause)) {
            log.warn("cluster: stopped releasing the clients of forgotten node {}: Redis refused ({}); {} released",
                    node, cause.getMessage(), released);
            end();
            return;
        }
        if (!failing) { // once per outage: Redis failures are logged by the cluster too
            log.warn("cluster: releasing the clients of forgotten node {} paused ({}); tried again every {} s",
                    node, RedisCluster.reason(cause), RETRY_MS / 1000);
        }
        failing = true;
        cluster.timer().schedule(() -> step(cursor), RETRY_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Releases the records among {@code keys} that name the node under an epoch older than the sweep, and removes the
     * node's entries from the subscriber sets among them; completes when all answered. A key Redis refuses (not what
     * its name says after all, a script error) is counted and passed over.
     */
    private CompletableFuture<Void> sweepBatch(RedisAsyncCommands<byte[], byte[]> redis, List<byte[]> keys) {
        List<CompletableFuture<Long>> releases = new ArrayList<>(keys.size());
        List<byte[]> sets = new ArrayList<>();
        if (!wildcardsSwept) { // the wildcard nodes' set, once (and again by a node that carries the sweep on)
            sets.add(Keys.WILDCARD_NODES);
        }
        for (byte[] key : keys) {
            String name = new String(key, StandardCharsets.UTF_8);
            if (Keys.isSubscribers(name)) {
                if (!own) {
                    sets.add(key);
                }
            } else if (Keys.isRecord(name)) {
                releases.add(release(redis, key));
            }
        }
        CompletableFuture<List<CompletableFuture<Long>>> removals = removeEntries(redis, sets);
        return CompletableFuture.allOf(releases.toArray(CompletableFuture[]::new)).thenCombine(removals,
                (done, removed) -> {
                    lookedAt += keys.size();
                    released += sum(releases);
                    entriesRemoved += sum(removed);
                    wildcardsSwept = true;
                    return null;
                });
    }

    /** Adds up what each answered, counting those Redis refused (-1) as errors. */
    private long sum(List<CompletableFuture<Long>> answers) {
        long n = 0;
        for (CompletableFuture<Long> a : answers) {
            long v = a.join();
            if (v < 0) {
                errors++;
            } else {
                n += v;
            }
        }
        return n;
    }

    /**
     * Removes the node's entries from {@code sets}: those of every process of its name ({@code "node process"}) and
     * the old form (the bare name). Each set is read first, and what names the node is removed only if, once all are
     * read, no process of the name holds its lease: a process adds entries while it holds its lease, so what was read
     * is then of processes that are gone (a new process of the name that took the lease in between may have added
     * its own: nothing is removed, and the sweep stops at its next step). One answer per set, each done: how many
     * removed, -1 for a set Redis refused, failed where Redis did not answer (the batch is then tried again).
     */
    private CompletableFuture<List<CompletableFuture<Long>>> removeEntries(RedisAsyncCommands<byte[], byte[]> redis,
                                                                           List<byte[]> sets) {
        List<CompletableFuture<List<byte[]>>> reads = new ArrayList<>(sets.size());
        for (byte[] set : sets) {
            reads.add(redis.smembers(set).toCompletableFuture()
                    .thenApply(members -> members.stream().filter(this::namesTheNode).toList()));
        }
        return CompletableFuture.allOf(reads.stream().map(r -> r.exceptionally(e -> List.of()))
                        .toArray(CompletableFuture[]::new))
                .thenCompose(all -> redis.exists(Keys.lease(node)).toCompletableFuture())
                .thenCompose(leased -> {
                    List<CompletableFuture<Long>> removed = new ArrayList<>(sets.size());
                    for (int i = 0; i < sets.size(); i++) {
                        byte[] set = sets.get(i);
                        removed.add(refusedAsMinusOne(reads.get(i).thenCompose(entries -> leased > 0
                                || entries.isEmpty() ? CompletableFuture.completedFuture(0L)
                                : redis.srem(set, entries.toArray(byte[][]::new)).toCompletableFuture())));
                    }
                    return CompletableFuture.allOf(removed.stream().map(r -> r.exceptionally(e -> 0L))
                            .toArray(CompletableFuture[]::new)).thenApply(all -> removed);
                });
    }

    /** An entry of the node: {@code "node process"} of any process, or the bare name (an older version's). */
    private boolean namesTheNode(byte[] entry) {
        return Arrays.equals(entry, nodeBytes) || entry.length > nodeBytes.length
                && entry[nodeBytes.length] == ' ' && Arrays.equals(entry, 0, nodeBytes.length, nodeBytes, 0,
                nodeBytes.length);
    }

    /** Releases {@code record} if it names the node under an epoch older than the sweep; 1 if released, else 0. */
    private CompletableFuture<Long> release(RedisAsyncCommands<byte[], byte[]> redis, byte[] record) {
        return refusedAsMinusOne(redis.hmget(record, NODE, EPOCH).toCompletableFuture().thenCompose(fields -> {
            KeyValue<byte[], byte[]> owner = fields.get(0);
            KeyValue<byte[], byte[]> epoch = fields.get(1);
            if (!owner.hasValue() || !Arrays.equals(owner.getValue(), nodeBytes) || !epoch.hasValue()
                    || !olderThanFence(epoch.getValue())) {
                return CompletableFuture.completedFuture(0L);
            }
            return cluster.release.<Long>run(redis, new byte[][] {record, storedKey(record)}, nodeBytes,
                    epoch.getValue(), NO_SEQ, KEEP_OFFLINE_RECORD_MS);
        }));
    }

    /** {@code answer}, with an error Redis refused (see {@link #refused}) as -1; other failures stay failures. */
    private static CompletableFuture<Long> refusedAsMinusOne(CompletableFuture<Long> answer) {
        return answer.exceptionallyCompose(e -> {
            Throwable cause = Script.unwrap(e);
            return refused(cause) ? CompletableFuture.completedFuture(-1L) : CompletableFuture.failedFuture(cause);
        });
    }

    private boolean olderThanFence(byte[] epoch) {
        try {
            return Long.parseLong(ascii(epoch)) < fenceUs;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * An error Redis answered that trying again will not mend (WRONGTYPE, NOPERM, a script error); not one it
     * answers while loading or failing over, nor a lost connection or a timeout.
     */
    private static boolean refused(Throwable cause) {
        if (!(cause instanceof RedisCommandExecutionException)) {
            return false;
        }
        String m = String.valueOf(cause.getMessage());
        return !(m.startsWith("LOADING") || m.startsWith("BUSY") || m.startsWith("TRYAGAIN")
                || m.startsWith("MASTERDOWN") || m.startsWith("CLUSTERDOWN") || m.startsWith("READONLY"));
    }

    private static String ascii(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }

    /** The stored-messages key beside a record: {@code swb:{<id>}:q} for {@code swb:{<id>}:o}. */
    static byte[] storedKey(byte[] record) {
        byte[] stored = record.clone();
        stored[stored.length - 1] = 'q';
        return stored;
    }
}
