package io.switchboard.cluster.redis;

import io.switchboard.session.ClientDirectory;
import io.switchboard.metrics.Refusal;
import io.switchboard.service.ClientInfo;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import io.switchboard.service.Reach;
import io.switchboard.session.MessageProperties;
import io.switchboard.session.SessionRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who holds which client, in Redis: a record per client (owner node, claim epoch, last seq), claimed and released
 * only by the epoch-checked scripts, so a late release from an old connection never removes a newer owner. A push
 * for a client not held here runs one script that either names the owner (the push goes to its inbox) or, for an
 * offline client, assigns the seq and keeps the message.
 *
 * <p>Thread-safe; callbacks run on Lettuce's I/O threads (gateway loops, see {@link GatewayLoops}) and never block.
 */
final class RedisDirectory implements ClientDirectory {
    private static final Logger log = LoggerFactory.getLogger(RedisDirectory.class);
    /** A push follows a client that moves between nodes at most this many times, then is answered 503. */
    private static final int MAX_HOPS = 3;
    private static final byte[] OWNER = {'n'};
    private static final byte[] LAST_SEQ = {'s'};
    private static final byte[] EPOCH = {'e'};
    private static final byte[] KEEP_OFFLINE_RECORD_MS = Script.bytes(RedisCluster.KEEP_OFFLINE_RECORD_MS);

    private final RedisCluster cluster;
    private final NodeInbox inbox;
    private volatile SessionRegistry registry;
    /**
     * Hints: the node each recently pushed-to client was found on. A hint is only ever a guess (the node it names
     * delivers only to a session it holds), so a stale one costs a round trip, never a wrong delivery.
     */
    private final java.util.Map<String, String> owners = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_OWNER_HINTS = 65_536;
    /** Per filter with a subscriber here: how many of this node's shards have one (wildcards under one key). */
    private final java.util.concurrent.ConcurrentHashMap<String, Integer> interest =
            new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Keys of {@link #interest} whose entry in Redis may be wrong: its SADD or SREM failed (Redis away a moment).
     * Sent again for the count then at each lease refresh until one goes through; else the node would miss the
     * filter's topic messages from other nodes for as long as a subscriber of it stays (only the first subscriber and
     * the last leaving send a command).
     */
    private final java.util.Set<String> interestToResend = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The key of {@link #interest} that counts every wildcard filter together (not a valid topic). */
    private static final String WILDCARD = "\u0000wildcards";
    private static final int RESTORE_BATCH = 1_000;
    /** Claims of clients connected here written again after Redis lost them (reclaim.lua). */
    final LongAdder reclaimed = new LongAdder();
    /** This process's entry in a topic subscriber set (see {@link Keys#subscribers}). */
    private final byte[] subscriberEntry;
    /** Pushes sent to another node's inbox. */
    final LongAdder routed = new LongAdder();
    /** Routed pushes their owner node did not answer in time (answered 503). */
    final LongAdder silent = new LongAdder();
    /** Entries of topic subscriber sets that named a process of a node that ended without leaving (removed). */
    final LongAdder endedSubscribers = new LongAdder();
    /** Broadcasts and topic messages whose count left out nodes that did not answer in time (logged 1 in 100). */
    private final AtomicLong shortCounts = new AtomicLong();

    RedisDirectory(RedisCluster cluster, NodeInbox inbox) {
        this.cluster = cluster;
        this.inbox = inbox;
        this.subscriberEntry = Keys.subscriberEntry(cluster.node, cluster.instance);
        this.claimTokenPrefix = cluster.instance.substring(0, 8) + ".";
    }

    void start(SessionRegistry registry) {
        this.registry = registry;
        registry.retained().onExpired(this::retainedExpired);
    }

    /**
     * A retained message that expired here goes from Redis too (if no newer one replaced it there): else the hash
     * would keep every expired one for good (a topic per request, each with an expiry, grows it without bound) and
     * every node would read them all at start.
     */
    private void retainedExpired(String topic, io.switchboard.session.RetainedMessages.Retained r) {
        cluster.retainedExpired.<Long>run(cluster.redis(), new byte[][] {Keys.RETAINED}, Script.bytes(topic),
                retainedValue(r.payload(), r.properties())).whenComplete((v, e) -> {
                    if (e != null) {
                        cluster.redisFailed("removing an expired retained message", e);
                    }
                });
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public void claim(String clientId, Claimed done) {
        String token = claimTokenPrefix + Long.toString(claimTokens.incrementAndGet(), 36);
        byte[][] keys = {Keys.record(clientId), Keys.stored(clientId), Keys.unreleasedQos2(clientId),
            Keys.undoneClaims(clientId)};
        cluster.claim.<List<Object>>run(cluster.redis(), keys, Script.bytes(cluster.node), Script.bytes(token))
                .whenComplete((reply, e) -> {
                    if (e != null || reply.isEmpty()) {
                        if (e != null) {
                            cluster.redisFailed("claiming a client", e);
                        }
                        // Redis may run it yet, or ran it unanswered (an empty answer: this claim, sent again on a
                        // new connection, found itself run already).
                        if (e == null || !RedisCluster.neverSent(e)) {
                            undoClaim(clientId, token);
                        }
                        done.failed("cluster unavailable");
                        return;
                    }
                    cluster.redisBack();
                    String previous = new String((byte[]) reply.get(0), StandardCharsets.UTF_8);
                    long epoch = StoredEntries.number(reply.get(1));
                    long lastSeq = StoredEntries.number(reply.get(2));
                    List<?> entries = reply.get(3) instanceof List<?> l ? l : List.of();
                    parkUnreleasedQos2(clientId, reply.size() > 4 && reply.get(4) instanceof List<?> l ? l : List.of());
                    if (!previous.isEmpty() && !previous.equals(cluster.node)) {
                        // Sent even when that node looks dead: if it is only slow, it must still let go. And once
                        // more at the next refresh: sent once, a notice lost (its XADD failed, or trimmed unread
                        // from a lagging inbox) left the older connection open for good, getting topic messages,
                        // broadcasts and ttl=0 pushes (only stored pushes meet the append fence).
                        InboxMessage.TakenOver notice = new InboxMessage.TakenOver(clientId, epoch);
                        inbox.send(previous, notice);
                        if (noticesAgainCount.incrementAndGet() <= MAX_CLAIMS_TO_UNDO) {
                            noticesAgain.add(new NoticeAgain(previous, notice,
                                    System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(NOTICE_AGAIN_AFTER_MS)));
                        } else {
                            noticesAgainCount.decrementAndGet();
                        }
                    }
                    done.claimed(epoch, Math.max(0, lastSeq), StoredEntries.unexpired(entries, cluster.clock.nowMs()));
                });
    }

    /** This process's claim tokens: the start of its instance id and a counter (see claim.lua). */
    private final String claimTokenPrefix;
    private final AtomicLong claimTokens = new AtomicLong();
    /**
     * Claims given up on and not undone in Redis yet, by token; and those undone whose notices (TakenOver) are sent
     * again at the next refreshes (an inbox message may be lost, and the nodes known alive may be out of date).
     */
    private final java.util.concurrent.ConcurrentHashMap<String, ClaimToUndo> claimsToUndo =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Tokens whose unclaim.lua is on its way. */
    private final java.util.Set<String> undoing = java.util.concurrent.ConcurrentHashMap.newKeySet();
    static final int MAX_CLAIMS_TO_UNDO = 100_000;
    /** Undone claims tried again per lease refresh at most (a long partition may leave many). */
    static final int UNDO_PER_REFRESH = 1_000;
    /** How many times the notices of an undone claim are sent (once per refresh). */
    private static final int NOTICES = 3;
    /** How long Redis remembers an undone claim's answer: longer than a command can wait on its way there. */
    private static final byte[] UNDONE_CLAIM_KEPT_MS = Script.bytes(3_600_000);
    /** Claims that ran after this node had given up on them, released (each client told to connect again). */
    final LongAdder claimsUndone = new LongAdder();

    /** A claim of {@code clientId} to undo; {@code noticesLeft} counts down once it was undone. */
    private record ClaimToUndo(String clientId, int noticesLeft) {
    }

    /**
     * Undoes a claim of {@code clientId} this node gave up waiting for, which Redis may run yet, or ran unanswered
     * (unclaim.lua): released, and every older session of the client let go, if it ran and no claim came since;
     * voided if it has not run. Tried again at every lease refresh until Redis answers.
     */
    void undoClaim(String clientId, String token) {
        if (claimsToUndo.size() >= MAX_CLAIMS_TO_UNDO) {
            log.error("cluster: {} claims given up on wait to be undone in Redis already; the claim of {} is not:"
                    + " should it run late, pushes to that client are kept until it connects again",
                    MAX_CLAIMS_TO_UNDO, clientId);
            return;
        }
        claimsToUndo.put(token, new ClaimToUndo(clientId, NOTICES));
        tryUndoClaim(token);
    }

    /** A takeover notice to send once more, at {@code dueNs} ({@link System#nanoTime}) or the refresh after it. */
    private record NoticeAgain(String node, InboxMessage.TakenOver notice, long dueNs) {
    }

    /** How long after the first a takeover notice goes again: past whatever made the first fail. */
    static final long NOTICE_AGAIN_AFTER_MS = 2_000;
    /**
     * Takeover notices sent once, to send again (bounded as the claims to undo are), in the order they are due, and
     * their count (a queue's size() is counted by walking it).
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<NoticeAgain> noticesAgain =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicInteger noticesAgainCount = new AtomicInteger();

    /** At each lease refresh: the claims not undone yet, and notices to send again, at most a batch of each. */
    void undoClaimsLeft() {
        long now = System.nanoTime();
        for (int n = 0; n < UNDO_PER_REFRESH; n++) {
            NoticeAgain again = noticesAgain.peek();
            if (again == null || again.dueNs() - now > 0) {
                break; // none due (they are queued in the order they fall due)
            }
            noticesAgain.poll(); // the one peeked: this refresh is the only taker
            noticesAgainCount.decrementAndGet();
            inbox.send(again.node(), again.notice());
        }
        int tried = 0;
        for (String token : claimsToUndo.keySet()) {
            if (tried++ >= UNDO_PER_REFRESH) {
                return;
            }
            tryUndoClaim(token);
        }
    }

    private void tryUndoClaim(String token) {
        ClaimToUndo c = claimsToUndo.get(token);
        if (c == null || !undoing.add(token)) {
            return; // done, or on its way
        }
        String clientId = c.clientId();
        cluster.unclaim.<List<Object>>run(cluster.redis(), new byte[][] {Keys.record(clientId), Keys.stored(clientId),
            Keys.undoneClaims(clientId)}, Script.bytes(cluster.node), Script.bytes(token), KEEP_OFFLINE_RECORD_MS,
                UNDONE_CLAIM_KEPT_MS).whenComplete((reply, e) -> {
                    undoing.remove(token);
                    if (e != null) {
                        return; // tried again at the next refresh
                    }
                    if (StoredEntries.number(reply.get(0)) != 1) {
                        claimsToUndo.remove(token); // voided, or replaced by a newer claim: nothing to tell
                        return;
                    }
                    // The same answer each time (Redis keeps it): the notices go again at the next refreshes.
                    long epoch = StoredEntries.number(reply.get(1));
                    String replaced = new String((byte[]) reply.get(2), StandardCharsets.UTF_8);
                    claimsToUndo.computeIfPresent(token, (k, v) -> v.noticesLeft() <= 1 ? null
                            : new ClaimToUndo(v.clientId(), v.noticesLeft() - 1));
                    if (c.noticesLeft() == NOTICES) {
                        claimsUndone.increment();
                        log.info("cluster: a claim of {} ran after this node had given up on it (Redis unreachable"
                                + " then): released, and its sessions elsewhere told to let go", clientId);
                    }
                    java.util.Set<String> nodes = new java.util.HashSet<>(cluster.aliveNodes());
                    if (!replaced.isEmpty()) {
                        nodes.add(replaced); // even when it looks dead: it may only be slow
                    }
                    nodes.remove(cluster.node);
                    for (String node : nodes) {
                        inbox.send(node, new InboxMessage.TakenOver(clientId, epoch));
                    }
                    registry.takenOver(clientId, epoch);
                });
    }

    /**
     * What the claim read of the client's unreleased QoS 2 ids, parked for the connection that claimed it (it takes
     * them at its CONNACK, a moment later); none replaces what an earlier claim parked.
     */
    private void parkUnreleasedQos2(String clientId, List<?> ids) {
        int[] packetIds = new int[ids.size()];
        int n = 0;
        for (Object id : ids) {
            long v = StoredEntries.number(id);
            if (v >= 1 && v <= 0xFFFF) {
                packetIds[n++] = (int) v;
            }
        }
        long nowMs = cluster.clock.nowMs();
        registry.unreleasedQos2().park(clientId, java.util.Arrays.copyOf(packetIds, n), nowMs + 60_000, nowMs);
    }

    @Override
    public java.util.concurrent.CompletableFuture<Void> qos2Received(String clientId, int packetId, long keepMs) {
        return cluster.qos2.<Long>run(cluster.redis(), new byte[][] {Keys.unreleasedQos2(clientId)},
                Script.bytes(packetId), Script.bytes(keepMs)).handle((r, e) -> {
                    qos2Failed(e);
                    return (Void) null;
                }).toCompletableFuture();
    }

    @Override
    public void qos2Released(String clientId, int packetId) {
        cluster.redis().srem(Keys.unreleasedQos2(clientId), Script.bytes(packetId)).whenComplete((r, e) ->
                qos2Failed(e));
    }

    @Override
    public void qos2Forgotten(String clientId) {
        cluster.redis().del(Keys.unreleasedQos2(clientId)).whenComplete((r, e) -> qos2Failed(e));
    }

    /**
     * A QoS 2 id not written: the client's next connection on another node may deliver its resend a second time (at
     * least once), or, for a release, take a released id for unreleased until the set expires (a new PUBLISH on it
     * comes without DUP and is delivered all the same).
     */
    private void qos2Failed(Throwable e) {
        if (e != null) {
            cluster.redisFailed("keeping an MQTT client's QoS 2 packet ids", e);
        }
    }

    @Override
    public void release(String clientId, long epoch, long lastSeq) {
        cluster.release.<Long>run(cluster.redis(), Keys.client(clientId), Script.bytes(cluster.node),
                Script.bytes(epoch), Script.bytes(lastSeq), KEEP_OFFLINE_RECORD_MS).whenComplete((released, e) -> {
                    if (e != null) {
                        // The record still names this node: pushes routed here are answered "not here" and then
                        // kept for the offline client, so nothing is lost. Tried again at each lease refresh (the
                        // script is fenced by the epoch: a newer claim is left alone): else the record, made
                        // permanent by the claim, named this node for as long as it runs (the client online in
                        // GET /v1/clients, an extra hop per push, a key that never expires) unless the client came
                        // back.
                        cluster.redisFailed("releasing a client", e);
                        if (releasesToRetry.size() < MAX_RELEASES_TO_RETRY) {
                            releasesToRetry.merge(clientId, new long[] {epoch, lastSeq},
                                    (older, newer) -> older[0] >= newer[0] ? older : newer);
                        }
                    }
                });
    }

    /** Releases that could not reach Redis, by client id: {epoch, last seq}; tried again at each lease refresh. */
    private final java.util.concurrent.ConcurrentHashMap<String, long[]> releasesToRetry =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_RELEASES_TO_RETRY = 100_000;
    private static final int RELEASES_RETRIED_PER_REFRESH = 1_000;

    /** Tries again (some of) the releases that failed; on the lease refresh. */
    void retryReleases() {
        int n = 0;
        for (var it = releasesToRetry.entrySet().iterator(); it.hasNext() && n < RELEASES_RETRIED_PER_REFRESH; n++) {
            var r = it.next();
            it.remove();
            release(r.getKey(), r.getValue()[0], r.getValue()[1]); // back in the map if it fails again
        }
    }

    /** The answer to a push that waited its turn behind one that found the cluster failing (ClientTurns#failed). */
    private static final PushResult EARLIER_FAILED = new PushResult(503, 0, false, "an earlier push to this client "
            + "found the cluster unavailable while this one waited its turn; retry");

    /** A client's pushes sent elsewhere go one at a time, so that their seqs follow the order they came in. */
    private final ClientTurns turns = new ClientTurns();

    /** The node a push for {@code clientId} may go straight to, or null (the script's path). */
    private String hintFor(String clientId) {
        String hint = owners.get(clientId);
        return hint != null && !hint.equals(cluster.node) && cluster.aliveNodes().contains(hint) ? hint : null;
    }

    @Override
    public void pushElsewhere(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done) {
        long queuedNs = System.nanoTime();
        turns.inTurn(clientId, finished -> {
            Consumer<PushResult> answered = r -> {
                try {
                    done.accept(r);
                } finally {
                    if (r.status() == 503) {
                        turns.failed(clientId);
                    }
                    finished.run();
                }
            };
            if (turns.failedSince(clientId, queuedNs)) {
                // One before it found the cluster failing after this one came: not another timeout's wait.
                try {
                    refuse(Refusal.CLUSTER_UNAVAILABLE, EARLIER_FAILED, done);
                } finally {
                    finished.run();
                }
                return;
            }
            try {
                pushNow(clientId, payload, ttlSec, answered);
            } catch (RuntimeException e) {
                // Answered, and the client's turn passed on: a push that never answers would hold every later one.
                log.error("cluster: a push to {} failed on this node", clientId, e);
                refuse(Refusal.CLUSTER_UNAVAILABLE, new PushResult(503, 0, false, "the push failed on this node: "
                        + e + "; retry"), answered);
            }
        });
    }

    /** A push to {@code clientId} in its turn. */
    private void pushNow(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done) {
        String hint = hintFor(clientId);
        if (hint != null) {
            // Straight to the node that held the client at the last push: one Redis write fewer. Only a node that
            // holds a session of the client delivers; one that does not answers "not here", and the script decides.
            routed.increment();
            inbox.request(hint, clientId, payload, ttlSec, reply -> {
                if (reply == null) {
                    owners.remove(clientId, hint);
                    silent.increment();
                    refuse(Refusal.CLUSTER_NODE_SILENT, new PushResult(503, 0, false, "node " + hint
                            + ", which holds the client, did not answer in time; retry"), done);
                } else if (reply.status() == InboxMessage.Reply.NOT_HERE) {
                    owners.remove(clientId, hint);
                    attempt(clientId, payload, ttlSec, "", 1, done);
                } else {
                    done.accept(new PushResult(reply.status(), reply.seq(), reply.delivered(), reply.error()));
                }
            });
            return;
        }
        attempt(clientId, payload, ttlSec, "", 0, done);
    }

    /**
     * Sends {@code clientId}'s session held here under {@code epoch} to resume: a message was kept for it while this
     * node was taken for dead (see append.lua). The check of every claim after a lapse finds it too, later.
     */
    void sendToResume(String clientId, long epoch) {
        registry.sendToResume(clientId, epoch, 0, () -> { });
    }

    /** Remembers where a push found {@code clientId}; bounded: past the bound, every hint is dropped at once. */
    private void hint(String clientId, String owner) {
        if (owners.size() >= MAX_OWNER_HINTS) {
            owners.clear();
        }
        owners.put(clientId, owner);
    }

    /**
     * A client's claim as the push script names it: the node that holds the client, and the epoch it claimed it
     * under.
     */
    private record Claim(String node, String epoch) {
        /** As the push script takes a claim known not to hold the client. */
        String known() {
            return node + " " + epoch;
        }
    }

    /**
     * One step of a push: {@code notOwner} is a claim known not to hold the client ({@link Claim#known()}, "" for
     * none). Only that claim counts as none: the client back on the same node meanwhile, under a newer claim, is
     * pushed to there, not kept beside its live session.
     */
    private void attempt(String clientId, byte[] payload, int ttlSec, String notOwner, int hops,
                         Consumer<PushResult> done) {
        runPushScript(clientId, payload, ttlSec, notOwner, (owner, e) -> {
            if (owner != null) {
                toOwner(clientId, payload, ttlSec, owner, hops, done);
            } else {
                done.accept(e);
            }
        });
    }

    /**
     * Runs the push script: {@code then} gets the claim that holds the client (and null), or null and the answer (the
     * push was kept for an offline client, refused, or Redis failed).
     */
    private void runPushScript(String clientId, byte[] payload, int ttlSec, String notOwner,
                               java.util.function.BiConsumer<Claim, PushResult> then) {
        long nowMs = cluster.clock.nowMs();
        long ttlMs = ttlSec <= 0 ? 0 : ttlSec * 1000L;
        Consumer<PushResult> done = r -> then.accept(null, r);
        cluster.push.<List<Object>>run(cluster.redis(), Keys.client(clientId), Script.bytes(notOwner),
                Script.bytes(ttlMs), payload, Script.bytes(cluster.maxStoredPerClient),
                Script.bytes(cluster.seqOriginFromClock ? "1" : "0"), KEEP_OFFLINE_RECORD_MS, Script.bytes(nowMs),
                Script.bytes(cluster.maxStoredBytesPerClient))
                .whenComplete((reply, e) -> {
                    if (e != null) {
                        cluster.redisFailed("pushing", e);
                        refuse(Refusal.CLUSTER_UNAVAILABLE, new PushResult(503, 0, false,
                                "the cluster's Redis did not answer: " + RedisCluster.reason(e)), done);
                        return;
                    }
                    cluster.redisBack();
                    long code = StoredEntries.number(reply.get(0));
                    if (code == 0) {
                        cluster.metrics.pushesAccepted.increment();
                        done.accept(PushResult.accepted(StoredEntries.number(reply.get(1)), false));
                    } else if (code == 2) {
                        refuse(Refusal.CLIENT_OFFLINE, PushResult.OFFLINE, done);
                    } else if (code == 3) {
                        refuse(Refusal.QUEUE_FULL, PushResult.QUEUE_FULL, done);
                    } else {
                        then.accept(new Claim(new String((byte[]) reply.get(1), StandardCharsets.UTF_8),
                                new String((byte[]) reply.get(2), StandardCharsets.UTF_8)), null);
                    }
                });
    }

    /**
     * A batch's pushes for clients not held here: those with a hint, and those whose owner the script names, go to
     * each owner node in one inbox message (a client's in request order: its owner takes them in that order); the
     * rest are answered as single pushes are. The script runs for a client's first message only: its answer decides
     * where all of that client's go (another answer for a later one, had the client moved in between, would give its
     * seqs out of order). A client with a push in progress here: its messages wait their turn as single pushes.
     */
    @Override
    public void pushManyElsewhere(List<PushRequest> requests, java.util.function.ObjIntConsumer<PushResult> done) {
        java.util.Map<String, List<Integer>> byClient = new java.util.LinkedHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            byClient.computeIfAbsent(requests.get(i).clientId(), k -> new java.util.ArrayList<>()).add(i);
        }
        java.util.Map<String, List<Integer>> hinted = new java.util.LinkedHashMap<>();
        java.util.Map<String, List<Integer>> unhinted = new java.util.LinkedHashMap<>();
        java.util.Map<Integer, Runnable> countAnswer = new java.util.HashMap<>();
        byClient.forEach((clientId, items) -> {
            if (!turns.tryStart(clientId)) {
                for (int i : items) {
                    pushElsewhere(clientId, requests.get(i).payload(), requests.get(i).ttlSec(),
                            res -> done.accept(res, i));
                }
                return;
            }
            Runnable finished = turns.finisher(clientId);
            AtomicInteger left = new AtomicInteger(items.size());
            for (int i : items) {
                countAnswer.put(i, () -> {
                    if (left.decrementAndGet() == 0) {
                        finished.run();
                    }
                });
            }
            String hint = hintFor(clientId);
            if (hint != null) {
                hinted.computeIfAbsent(hint, k -> new java.util.ArrayList<>()).addAll(items);
            } else {
                unhinted.put(clientId, items);
            }
        });
        java.util.function.ObjIntConsumer<PushResult> answered = (res, i) -> {
            try {
                done.accept(res, i);
            } finally {
                if (res.status() == 503) {
                    turns.failed(requests.get(i).clientId()); // single pushes waiting behind the batch: 503 at once
                }
                countAnswer.get(i).run();
            }
        };
        hinted.forEach((node, indexes) -> sendBatch(node, requests, indexes, answered));
        if (unhinted.isEmpty()) {
            return;
        }
        // The scripts' answers come back in the order they were sent (one connection): grouped in that order.
        java.util.Map<String, List<Integer>> found = new java.util.LinkedHashMap<>();
        AtomicInteger pending = new AtomicInteger(unhinted.size());
        unhinted.forEach((clientId, items) -> {
            int first = items.get(0);
            PushRequest r = requests.get(first);
            List<Integer> rest = items.subList(1, items.size());
            Consumer<PushResult> answerFirst = res -> {
                answered.accept(res, first);
                if (res.status() == 503) {
                    earlierFailed(rest, answered);
                } else {
                    oneByOne(requests, rest, 0, answered, this::pushNow); // after the first, as single pushes
                }
            };
            runPushScript(clientId, r.payload(), r.ttlSec(), "", (owner, result) -> {
                try {
                    if (owner == null) {
                        answerFirst.accept(result);
                    } else if (!owner.node().equals(cluster.node) && cluster.aliveNodes().contains(owner.node())) {
                        synchronized (found) {
                            found.computeIfAbsent(owner.node(), k -> new java.util.ArrayList<>()).addAll(items);
                        }
                    } else {
                        toOwner(clientId, r.payload(), r.ttlSec(), owner, 0, answerFirst);
                    }
                } finally {
                    if (pending.decrementAndGet() == 0) { // the others found go whatever this one did
                        synchronized (found) {
                            found.forEach((node, indexes) -> sendBatch(node, requests, indexes, answered));
                        }
                    }
                }
            });
        });
    }

    /** How one push goes, given its request and who gets its answer. */
    @FunctionalInterface
    private interface OnePush {
        void push(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done);
    }

    /**
     * Pushes {@code indexes}, one client's, each once the one before it was answered, from {@code from} on; once one
     * is answered 503 (Redis or the owner did not answer), the rest are answered 503 at once, not each after its
     * own timeout (a batch of thousands for one client waited thousands of timeouts).
     */
    private void oneByOne(List<PushRequest> requests, List<Integer> indexes, int from,
                          java.util.function.ObjIntConsumer<PushResult> answered, OnePush how) {
        if (from >= indexes.size()) {
            return;
        }
        int i = indexes.get(from);
        PushRequest r = requests.get(i);
        ClientTurns.runFlat(() -> how.push(r.clientId(), r.payload(), r.ttlSec(), res -> {
            answered.accept(res, i);
            if (res.status() == 503) {
                earlierFailed(indexes.subList(from + 1, indexes.size()), answered);
            } else {
                oneByOne(requests, indexes, from + 1, answered, how);
            }
        }));
    }

    /** Answers {@code indexes} 503 at once: a push of their client before them found the cluster failing. */
    private void earlierFailed(List<Integer> indexes, java.util.function.ObjIntConsumer<PushResult> answered) {
        for (int j : indexes) {
            refuse(Refusal.CLUSTER_UNAVAILABLE, EARLIER_FAILED, res -> answered.accept(res, j));
        }
    }

    private void sendBatch(String node, List<PushRequest> requests, List<Integer> indexes,
                           java.util.function.ObjIntConsumer<PushResult> done) {
        List<InboxMessage.Item> items = new java.util.ArrayList<>(indexes.size());
        for (int i : indexes) {
            PushRequest r = requests.get(i);
            items.add(new InboxMessage.Item(r.clientId(), r.ttlSec(), r.payload()));
        }
        routed.add(items.size());
        inbox.requestBatch(node, items, reply -> {
            // Per client, the messages its node said it does not hold: the script then decides, one at a time.
            java.util.Map<String, List<Integer>> notHere = new java.util.LinkedHashMap<>();
            for (int k = 0; k < indexes.size(); k++) {
                int i = indexes.get(k);
                PushRequest r = requests.get(i);
                InboxMessage.Reply one = reply == null || reply.replies().size() != items.size() ? null
                        : reply.replies().get(k);
                if (one == null) {
                    owners.remove(r.clientId(), node);
                    silent.increment();
                    refuse(Refusal.CLUSTER_NODE_SILENT, new PushResult(503, 0, false, "node " + node
                            + ", which holds the client, did not answer in time; retry"), res -> done.accept(res, i));
                } else if (one.status() == InboxMessage.Reply.NOT_HERE) {
                    // The claim it was sent under is not known here: the script names the claim again, and a
                    // second "not here" from its node lets the push be kept.
                    owners.remove(r.clientId(), node);
                    notHere.computeIfAbsent(r.clientId(), c -> new java.util.ArrayList<>()).add(i);
                } else {
                    hint(r.clientId(), node);
                    done.accept(new PushResult(one.status(), one.seq(), one.delivered(), one.error()), i);
                }
            }
            notHere.forEach((clientId, again) -> oneByOne(requests, again, 0, done,
                    (c, payload, ttl, answer) -> attempt(c, payload, ttl, "", 1, answer)));
        });
    }

    private void toOwner(String clientId, byte[] payload, int ttlSec, Claim owner, int hops,
                         Consumer<PushResult> done) {
        if (hops >= MAX_HOPS) {
            refuse(Refusal.CLUSTER_UNAVAILABLE, new PushResult(503, 0, false,
                    "the client moved between nodes while the push followed it; retry"), done);
        } else if (owner.node().equals(cluster.node)) {
            // The record names this node, but the session is not here (it just left, or a release was lost).
            registry.pushes().pushIfHere(clientId, payload, ttlSec, r -> {
                if (r != null) {
                    done.accept(r);
                } else {
                    attempt(clientId, payload, ttlSec, owner.known(), hops + 1, done);
                }
            });
        } else {
            cluster.alive(owner.node()).whenComplete((alive, e) -> {
                if (e != null) {
                    cluster.redisFailed("checking a node's lease", e);
                    refuse(Refusal.CLUSTER_UNAVAILABLE, new PushResult(503, 0, false,
                            "the cluster's Redis did not answer: " + RedisCluster.reason(e)), done);
                } else if (!alive) {
                    attempt(clientId, payload, ttlSec, owner.known(), hops + 1, done); // its node is gone: offline
                } else {
                    route(clientId, payload, ttlSec, owner, hops, done);
                }
            });
        }
    }

    private void route(String clientId, byte[] payload, int ttlSec, Claim owner, int hops,
                       Consumer<PushResult> done) {
        routed.increment();
        inbox.request(owner.node(), clientId, payload, ttlSec, reply -> {
            if (reply == null) {
                silent.increment();
                refuse(Refusal.CLUSTER_NODE_SILENT, new PushResult(503, 0, false, "node " + owner.node()
                        + ", which holds the client, did not answer in time; retry"), done);
            } else if (reply.status() == InboxMessage.Reply.NOT_HERE) {
                attempt(clientId, payload, ttlSec, owner.known(), hops + 1, done);
            } else {
                hint(clientId, owner.node());
                done.accept(new PushResult(reply.status(), reply.seq(), reply.delivered(), reply.error()));
            }
        });
    }

    @Override
    public String node() {
        return cluster.node;
    }

    @Override
    public CompletableFuture<Boolean> claimedSince(String clientId, long epoch) {
        return cluster.redis().hget(Keys.record(clientId), EPOCH).toCompletableFuture()
                .thenApply(e -> e != null && Long.parseLong(new String(e, StandardCharsets.UTF_8)) > epoch);
    }

    @Override
    public CompletableFuture<ClientInfo> info(String clientId) {
        return unavailableOnFailure(infoFromRedis(clientId), "reading a client's record");
    }

    /**
     * {@code f}, or, when it failed (Redis did not answer), an {@link io.switchboard.service.Unavailable} saying so: the
     * API answers 503 with that reason, not 500.
     */
    private <T> CompletableFuture<T> unavailableOnFailure(CompletableFuture<T> f, String doing) {
        return f.handle((v, e) -> {
            if (e == null) {
                return v;
            }
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                    ? e.getCause() : e;
            if (!(cause instanceof io.lettuce.core.RedisException
                    || cause instanceof java.util.concurrent.TimeoutException)) {
                throw e instanceof RuntimeException r ? r : new java.util.concurrent.CompletionException(e);
            }
            cluster.redisFailed(doing, cause); // not a fault of this code: an answer Redis did not give
            throw new io.switchboard.service.Unavailable("the cluster's Redis did not answer: "
                    + RedisCluster.reason(cause));
        });
    }

    private CompletableFuture<ClientInfo> infoFromRedis(String clientId) {
        var redis = cluster.redis();
        var record = redis.hmget(Keys.record(clientId), OWNER, LAST_SEQ, EPOCH).toCompletableFuture();
        var stored = redis.llen(Keys.stored(clientId)).toCompletableFuture();
        return record.thenCombine(stored, (fields, queued) -> {
            String owner = fields.get(0).hasValue() ? new String(fields.get(0).getValue(), StandardCharsets.UTF_8)
                    : null;
            long lastSeq = fields.get(1).hasValue() ? StoredEntries.number(fields.get(1).getValue()) : 0;
            boolean known = owner != null || fields.get(2).hasValue() || queued > 0;
            return known ? new Object[] {owner, lastSeq, queued} : null;
        }).thenCompose(r -> {
            if (r == null) {
                return CompletableFuture.completedFuture((ClientInfo) null);
            }
            String owner = (String) r[0];
            CompletableFuture<Boolean> online = owner == null ? CompletableFuture.completedFuture(false)
                    : cluster.alive(owner);
            return online.thenApply(up -> new ClientInfo(clientId, up, 0, null, null, (long) r[1], 0,
                    (int) Math.min(Integer.MAX_VALUE, (long) r[2]), 0, 0, up ? owner : null));
        });
    }

    @Override
    public CompletableFuture<Boolean> disconnect(String clientId, int code, String reason) {
        var read = unavailableOnFailure(cluster.redis().hget(Keys.record(clientId), OWNER).toCompletableFuture(),
                "reading a client's record");
        return read.thenCompose(owner -> {
            String node = owner == null ? null : new String(owner, StandardCharsets.UTF_8);
            if (node == null || node.equals(cluster.node)) {
                return CompletableFuture.completedFuture(false); // held nowhere (or here, where it was not found)
            }
            CompletableFuture<Boolean> done = new CompletableFuture<>();
            inbox.request(node, id -> new InboxMessage.Disconnect(id, cluster.node, clientId, code, reason),
                    reply -> done.complete(reply != null && reply.status() == 200 && reply.seq() == 1));
            return done;
        });
    }

    @Override
    public void retained(String topic, byte[] payload, MessageProperties properties) {
        var redis = cluster.redis();
        var kept = payload.length == 0 ? redis.hdel(Keys.RETAINED, Script.bytes(topic))
                : redis.hset(Keys.RETAINED, Script.bytes(topic), retainedValue(payload, properties));
        // An earlier version's message for the topic (see Keys.RETAINED_EARLIER) must not come back at a start.
        redis.hdel(Keys.RETAINED_EARLIER, Script.bytes(topic));
        kept.whenComplete((v, e) -> {
            if (e != null) {
                cluster.redisFailed("keeping a retained message", e);
            }
        });
        // A fresh look at the nodes: one that joined after this node's last look loaded the hash before this write,
        // or is seen now (it joins the node set before it loads).
        cluster.refreshAlive().handle((nodes, e) -> nodes != null ? nodes : cluster.aliveNodes()).thenAccept(nodes -> {
            for (String other : nodes) {
                if (!other.equals(cluster.node)) {
                    inbox.send(other, new InboxMessage.Retained(topic, payload, properties));
                }
            }
        });
    }

    /**
     * Loads every retained message the cluster keeps into this node's, but those expired at {@code nowMs}; at start.
     * Returns how many were taken.
     */
    int loadRetained(io.switchboard.session.RetainedMessages into, long nowMs) throws Exception {
        long timeoutMs = Math.max(cluster.timeoutMs, 10_000);
        java.util.Map<byte[], byte[]> all = cluster.redis().hgetall(Keys.RETAINED)
                .get(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        int taken = 0;
        java.util.Set<String> topics = new java.util.HashSet<>();
        for (var e : all.entrySet()) {
            String topic = new String(e.getKey(), StandardCharsets.UTF_8);
            topics.add(topic);
            io.switchboard.session.RetainedMessages.Retained r = retainedFrom(e.getValue());
            if (r == null) {
                log.warn("cluster: the retained message of topic '{}' in Redis is not one this version reads: "
                        + "skipped", topic);
            } else if (r.properties() != null && r.properties().expired(nowMs)) {
                retainedExpired(topic, r); // gone from Redis too, unless a newer one came meanwhile
            } else if (into.retain(topic, r.payload(), r.properties(), nowMs)
                    != io.switchboard.session.RetainedMessages.Outcome.FULL) {
                taken++;
            }
        }
        // Those an earlier version kept (payloads alone, in its own hash: a rolling upgrade), for topics the new hash
        // has none of; not copied into it (a copy would outlive a newer one the older nodes write meanwhile).
        java.util.Map<byte[], byte[]> earlier = cluster.redis().hgetall(Keys.RETAINED_EARLIER)
                .get(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        for (var e : earlier.entrySet()) {
            String topic = new String(e.getKey(), StandardCharsets.UTF_8);
            if (!topics.contains(topic) && e.getValue().length > 0
                    && into.retain(topic, e.getValue(), null, nowMs)
                    != io.switchboard.session.RetainedMessages.Outcome.FULL) {
                taken++;
            }
        }
        return taken;
    }

    /** A retained message as the hash {@link Keys#RETAINED} holds it: its properties, then its payload. */
    static byte[] retainedValue(byte[] payload, MessageProperties properties) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(payload.length + 16);
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            MessageProperties.write(properties, out);
            out.write(payload);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    /** What {@link #retainedValue} wrote; null when {@code value} is not that. */
    static io.switchboard.session.RetainedMessages.Retained retainedFrom(byte[] value) {
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(value));
        try {
            MessageProperties properties = MessageProperties.read(in, value.length);
            return new io.switchboard.session.RetainedMessages.Retained(in.readAllBytes(), properties);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    @Override
    public void topicInterest(String filter, boolean wildcard, boolean added) {
        // Counted over this node's shards; Redis hears of the first and the last only, in the order they happened
        // (the command is sent inside the count's update, so a later change cannot overtake it).
        interest.compute(wildcard ? WILDCARD : filter, (f, n) -> {
            int count = (n == null ? 0 : n) + (added ? 1 : -1);
            if (count == 1 && added || count == 0 && !added) {
                sendInterest(f, added);
            }
            return count <= 0 ? null : count;
        });
    }

    /**
     * Adds or removes this node's entry for {@code f} (a key of {@link #interest}); called inside its count's update,
     * it hands the command to the cluster's interest thread, which issues them in that order. Issued right here, on
     * whichever loop changed the count, a command from the Redis connection's own loop (Lettuce runs on the
     * gateway's loops) is written at once while one from another loop waits in a task: the last subscriber leaving
     * on one loop and a new one coming on the other reached Redis as SADD then SREM, and the node heard no more of
     * the topic from the other nodes.
     */
    private void sendInterest(String f, boolean added) {
        try {
            cluster.interestThread.execute(() -> writeInterest(f, added));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // the cluster is closing: its entries go with its node
        }
    }

    private void writeInterest(String f, boolean added) {
        byte[] key = f.equals(WILDCARD) ? Keys.WILDCARD_NODES : Keys.subscribers(f);
        var sent = added ? cluster.redis().sadd(key, subscriberEntry) : cluster.redis().srem(key, subscriberEntry);
        sent.whenComplete((v, e) -> {
            if (e != null) {
                interestToResend.add(f);
                cluster.redisFailed("recording a topic's subscribers", e);
            }
        });
    }

    /** At each lease refresh: the topic subscriber entries whose last command failed, sent again for their count now. */
    void resendTopicInterest() {
        for (String f : interestToResend) {
            interestToResend.remove(f);
            interest.compute(f, (k, n) -> {
                sendInterest(k, n != null);
                return n;
            });
        }
    }

    /**
     * Puts back what this node wrote if Redis lost it: one {@code SET NX} of {@link Keys#kept} (set as the node
     * joined) per lease refresh, which succeeds only when the key is missing (Redis restarted empty, or failed over
     * to a replica that had not seen it). Then its topic subscriber entries and the claims of the clients connected
     * here are written again, and the retained messages this node holds (each node holds them all, within its limits)
     * where none is. Without this, after such a loss the other nodes would take the clients connected here for
     * offline (a push through them answered 404, or stored: see {@link #reclaim} for its client), send this
     * node no topic message, and a node started later would load no retained message.
     *
     * <p>When nothing was lost but the refresh found this node's lease {@code lapsed} (the node was paused, or cut off
     * from Redis, for longer than the lease): meanwhile the other nodes took its clients for offline and kept pushes
     * for them as stored messages that the sessions here were never given, and may have claimed some, or released
     * them all (the node forgotten). The claims of the clients connected here are checked then, and once more at the
     * next refresh (a push that found the lease gone just before it was taken back may be kept a moment later):
     * a client with such a message is sent to resume (so it gets it now, not at its next reconnect, maybe days later),
     * one claimed elsewhere is let go, a claim released is put back.
     */
    void restoreIfLost(boolean lapsed) {
        cluster.redis().set(Keys.kept(cluster.node), Script.bytes(cluster.instance),
                io.lettuce.core.SetArgs.Builder.nx()).whenComplete((ok, e) -> {
                    if (e != null) {
                        if (lapsed) {
                            claimChecksDue = 2;
                        }
                        return; // counted by the lease refresh beside it; the next refresh looks again
                    }
                    if ("OK".equals(ok)) {
                        // And once more at the next refresh: a push that read this node's lease as gone just before
                        // it came back may keep a message a moment after this pass, as after a lapse.
                        claimChecksDue = 1;
                        restoreAll();
                    } else {
                        checkClaims(lapsed);
                    }
                });
    }

    /** Redis lost what this node wrote: all of it written again. */
    private void restoreAll() {
        List<String> filters = List.copyOf(interest.keySet());
        List<java.util.Map.Entry<String, byte[]>> retained = new java.util.ArrayList<>();
        registry.retained().forEach((topic, r) -> retained.add(java.util.Map.entry(topic,
                retainedValue(r.payload(), r.properties()))));
        log.warn("cluster: Redis lost what this node wrote (it restarted empty or failed over): putting back {} "
                + "topic subscriber entries, the claims of the clients connected here and {} retained messages",
                filters.size(), retained.size());
        restoreTopicEntries(filters);
        reclaimHeldClients(this::takeAsLost);
        // Only where none is there now: one retained since the loss is newer.
        writeBack(retained, 0, "the retained messages", m -> cluster.redis().hsetnx(Keys.RETAINED,
                Script.bytes(m.getKey()), m.getValue()).toCompletableFuture(), this::takeAsLost);
    }

    /** The claims of the clients connected here checked after a lapse (twice: now and at the next refresh). */
    private void checkClaims(boolean lapsed) {
        if (lapsed) {
            log.warn("cluster: this node's lease had lapsed (paused, or cut off from Redis, for longer than {} s): "
                    + "the other nodes took its clients for offline meanwhile; checking the claims of the clients "
                    + "connected here (those given stored messages meanwhile are sent to resume them)",
                    RedisCluster.LEASE_MS / 1000);
            claimChecksDue = 2;
        }
        if (claimChecksDue > 0) {
            claimChecksDue--;
            reclaimHeldClients(() -> claimChecksDue = Math.max(claimChecksDue, 1));
        }
    }

    /**
     * Another Redis process answers now (restarted, or failed over): the claims of the clients connected here are
     * checked at the next two lease refreshes, as after a lapse (see {@link RedisCluster#checkRedisProcess}).
     */
    void redisProcessChanged() {
        log.warn("cluster: another Redis process answers now (restarted, or failed over): it may have lost the last "
                + "claims written; checking the claims of the clients connected here");
        claimChecksDue = 2;
    }

    /**
     * Passes over the claims of the clients connected here still to make, one per lease refresh (see restoreIfLost).
     * Written from Lettuce's threads: a race makes at most one pass more.
     */
    private volatile int claimChecksDue;

    /** A write back failed: what this node wrote is taken as lost again, so that the next refresh starts over. */
    private void takeAsLost() {
        cluster.redis().del(Keys.kept(cluster.node));
    }

    /** A client connected here: its claim's epoch and its session's last seq, as read on its loop. */
    private record HeldClient(String id, long epoch, long lastSeq) {
    }

    /** Writes again (or checks) the claims of the clients connected here, each loop's read on that loop. */
    private void reclaimHeldClients(Runnable onFailure) {
        for (io.switchboard.session.SessionShard loop : List.copyOf(registry.loops())) {
            loop.execute(() -> {
                List<HeldClient> held = new java.util.ArrayList<>();
                loop.forEachSession(s -> {
                    if (s.online() && s.epoch() != 0) {
                        held.add(new HeldClient(s.id(), s.epoch(), s.lastSeq()));
                    }
                });
                reclaim(held, onFailure);
            });
        }
    }

    /** Runs reclaim.lua for each of {@code held}, and acts on what it found. */
    private void reclaim(List<HeldClient> held, Runnable onFailure) {
        writeBack(held, 0, "the claims of the clients connected here", c -> cluster.reclaim.<List<Object>>run(
                cluster.redis(), new byte[][] {Keys.record(c.id()), Keys.stored(c.id())}, Script.bytes(cluster.node),
                Script.bytes(c.epoch()), Script.bytes(c.lastSeq()), Script.bytes(cluster.clock.nowMs()))
                .thenAccept(r -> reclaimed(c, r)), onFailure);
    }

    private void reclaimed(HeldClient c, List<Object> r) {
        long found = StoredEntries.number(r.get(0));
        long value = StoredEntries.number(r.get(1));
        String replaced = new String((byte[]) r.get(2), StandardCharsets.UTF_8);
        if (!replaced.isEmpty()) {
            // An older claim of another node (a replica behind): its session, if still open, must let go.
            inbox.send(replaced, new InboxMessage.TakenOver(c.id(), c.epoch()));
        }
        if (found == 0) {
            // Claimed since (its TakenOver may be lost with the inbox of a node that was forgotten).
            registry.takenOver(c.id(), value);
            return;
        }
        // Put back (or kept) for a session that may have ended since its read, its release landing before this:
        // released again (fenced by the epoch, as every release).
        Runnable releaseAgain = () -> release(c.id(), c.epoch(), c.lastSeq());
        if (found == 1) {
            reclaimed.increment();
            registry.unlessOnline(c.id(), c.epoch(), releaseAgain);
        } else if (found == 2) {
            registry.sendToResume(c.id(), c.epoch(), value, releaseAgain);
        }
    }

    /**
     * Adds this node's entry for each of {@code filters}, inside its count's update, so that a subscriber's going,
     * removing the entry, cannot be overtaken by this.
     */
    private void restoreTopicEntries(List<String> filters) {
        writeBack(filters, 0, "the topic subscriptions", filter -> {
            CompletableFuture<?>[] sent = {CompletableFuture.completedFuture(null)};
            interest.computeIfPresent(filter, (f, n) -> {
                sent[0] = cluster.redis().sadd(filter.equals(WILDCARD) ? Keys.WILDCARD_NODES : Keys.subscribers(f),
                        subscriberEntry).toCompletableFuture();
                return n;
            });
            return sent[0];
        }, this::takeAsLost);
    }

    /**
     * Writes {@code items} from {@code from} on back to Redis, {@link #RESTORE_BATCH} at a time: the next batch once
     * Redis answered the last one (one connection answers in order; Lettuce's request queue is bounded). A failure
     * runs {@code onFailure} (which has the next lease refresh start over).
     */
    private <T> void writeBack(List<T> items, int from, String what,
                               java.util.function.Function<T, CompletableFuture<?>> write, Runnable onFailure) {
        int to = Math.min(items.size(), from + RESTORE_BATCH);
        CompletableFuture<?> last = CompletableFuture.completedFuture(null);
        for (int i = from; i < to; i++) {
            last = write.apply(items.get(i));
        }
        last.whenComplete((v, e) -> {
            if (e != null) {
                cluster.redisFailed("putting back " + what, e);
                onFailure.run();
            } else if (to < items.size()) {
                writeBack(items, to, what, write, onFailure);
            }
        });
    }

    @Override
    public CompletableFuture<Reach> fanOut(String topic, byte[] payload, MessageProperties properties) {
        if (topic == null) {
            // A fresh look at the nodes (not the two-second view): a node that joined a moment ago gets it too.
            return cluster.refreshAlive().handle((nodes, e) -> nodes != null ? nodes : cluster.aliveNodes())
                    .thenCompose(nodes -> fanOut(nodes, null, payload, properties));
        }
        // A topic message: only the nodes with a subscriber of the topic itself or of some wildcard filter, as the
        // sets say now (a node that subscribed a moment ago is in them).
        var exact = cluster.redis().smembers(Keys.subscribers(topic)).toCompletableFuture();
        var wild = cluster.redis().smembers(Keys.WILDCARD_NODES).toCompletableFuture();
        return exact.thenCombine(wild, (x, w) -> {
            List<SubscriberEntry> entries = new java.util.ArrayList<>(x.size() + w.size());
            x.forEach(m -> entries.add(SubscriberEntry.of(Keys.subscribers(topic), m)));
            w.forEach(m -> entries.add(SubscriberEntry.of(Keys.WILDCARD_NODES, m)));
            return entries;
        }).thenCompose(this::liveSubscribers).handle((interested, e) -> {
            if (e != null) {
                cluster.redisFailed("reading a topic's subscribers", e);
                return cluster.aliveNodes(); // every live node, rather than none
            }
            return interested;
        }).thenCompose(nodes -> fanOut(nodes, topic, payload, properties));
    }

    /**
     * An entry of a topic's subscriber set ({@code key}): "node process" as {@link #topicInterest} adds it, or a
     * node's name alone as versions before the process was named added it ({@code process} null).
     */
    private record SubscriberEntry(byte[] key, byte[] raw, String node, String process) {
        static SubscriberEntry of(byte[] key, byte[] raw) {
            String s = new String(raw, StandardCharsets.UTF_8);
            int space = s.indexOf(' ');
            return space < 0 ? new SubscriberEntry(key, raw, s, null)
                    : new SubscriberEntry(key, raw, s.substring(0, space), s.substring(space + 1));
        }
    }

    /**
     * The nodes whose current process holds one of {@code entries}, from their leases read now. An entry of an
     * earlier process of a node (killed, so it never removed its entries; its node's lease now holds another
     * process) is removed: a restarted node is not sent topic messages its earlier process subscribed to. An entry
     * whose node holds no lease stays (its process may take its lease back after a pause) and is skipped.
     */
    private CompletableFuture<java.util.Set<String>> liveSubscribers(List<SubscriberEntry> entries) {
        List<String> nodes = entries.stream().map(SubscriberEntry::node).distinct().toList();
        if (nodes.isEmpty()) {
            return CompletableFuture.completedFuture(java.util.Set.of());
        }
        return cluster.leaseHolders(nodes).thenApply(process -> {
            java.util.Set<String> live = new java.util.HashSet<>();
            for (SubscriberEntry e : entries) {
                String current = process.get(e.node());
                if (current == null) {
                    continue;
                }
                if (e.process() == null || e.process().equals(current)) {
                    live.add(e.node());
                } else {
                    endedSubscribers.increment();
                    cluster.redis().srem(e.key(), e.raw()).whenComplete((n, failed) -> {
                        if (failed != null) {
                            cluster.redisFailed("removing an ended process's topic subscription", failed);
                        }
                    });
                }
            }
            return live;
        });
    }

    private CompletableFuture<Reach> fanOut(java.util.Set<String> nodes, String topic, byte[] payload,
                                            MessageProperties properties) {
        List<String> others = nodes.stream().filter(n -> !n.equals(cluster.node)).sorted().toList();
        CompletableFuture<Reach> all = new CompletableFuture<>();
        if (others.isEmpty()) {
            all.complete(Reach.of(0));
            return all;
        }
        AtomicLong reached = new AtomicLong();
        AtomicInteger remaining = new AtomicInteger(others.size());
        java.util.Queue<String> unconfirmed = new java.util.concurrent.ConcurrentLinkedQueue<>();
        for (String other : others) {
            inbox.request(other, id -> new InboxMessage.FanOut(id, cluster.node, topic, properties, payload), reply -> {
                if (reply == null || reply.status() != 200) {
                    // Not answered in time, or failed there (500): its clients are not counted, the node is named.
                    if (reply == null) {
                        silent.increment();
                    }
                    unconfirmed.add(other);
                } else {
                    reached.addAndGet(reply.seq());
                }
                if (remaining.decrementAndGet() == 0) {
                    List<String> names = unconfirmed.stream().sorted().toList();
                    if (!names.isEmpty() && shortCounts.getAndIncrement() % 100 == 0) {
                        log.warn("cluster: {} of {} other nodes did not confirm a {} (no answer within {} ms, or a "
                                + "failure there: {}): the answer names them and its count leaves their clients out, "
                                + "though they may have been reached (1 in 100 logged)", names.size(), others.size(),
                                topic == null ? "broadcast" : "topic message", 2L * cluster.timeoutMs,
                                String.join(", ", names.subList(0, Math.min(10, names.size()))));
                    }
                    all.complete(new Reach(reached.get(), names));
                }
            });
        }
        return all;
    }

    private void refuse(Refusal reason, PushResult r, Consumer<PushResult> done) {
        cluster.metrics.refused(reason);
        done.accept(r);
    }
}
