package io.switchboard.session;

import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import io.switchboard.service.ClientInfo;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import io.switchboard.service.PushService;
import io.switchboard.service.Reach;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.ObjIntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session core's {@link PushService}: pushes, batches, broadcasts, topic pushes, client info and disconnects,
 * each handed to the loop that owns the sessions it touches (one task per loop where it touches many), stored
 * messages answered once the {@link io.switchboard.store.MessageStore} kept them. Every future completes: a task that
 * throws completes it exceptionally (counted in {@code loopErrors}, logged once with its context).
 *
 * <p>Thread-safe: called from any thread; results complete on the owning loop's thread (or the caller's, when
 * refused before reaching a loop).
 */
public final class Deliveries implements PushService {
    private static final Logger log = LoggerFactory.getLogger(Deliveries.class);
    /** A push follows a session that moves between loops at most this many times, then counts it offline. */
    private static final int MAX_RESOLVE_ATTEMPTS = 8;
    /** A stored push whose store has not reported within this long is answered 503. */
    static final long STORE_APPEND_TIMEOUT_MS = PushService.STORE_ANSWER_TIMEOUT_MS;

    private final SessionRegistry registry;
    private final GatewayMetrics metrics;
    private final AtomicLong storeFailuresLogged = new AtomicLong();

    Deliveries(SessionRegistry registry) {
        this.registry = registry;
        this.metrics = registry.metrics();
    }

    /** Pushes to one client; completes on the session's loop (or the caller's thread when refused early). */
    @Override
    public CompletableFuture<PushResult> push(String clientId, byte[] payload, int ttlSec) {
        CompletableFuture<PushResult> f = new CompletableFuture<>();
        push(clientId, payload, ttlSec, f::complete, f, 0);
        return f;
    }

    /** {@code done} gets the result; {@code failed} completes exceptionally when the loop task throws. */
    private void push(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done,
                      CompletableFuture<?> failed, int attempt) {
        PushResult early = precheck(payload, ttlSec);
        if (early != null) {
            refuse(early, done);
            return;
        }
        if (attempt >= MAX_RESOLVE_ATTEMPTS) {
            refuse(PushResult.OFFLINE, done);
            return;
        }
        Session s = registry.resolve(clientId, ttlSec);
        if (s == null) {
            if (registry.directory().shared()) {
                registry.directory().pushElsewhere(clientId, payload, ttlSec, done);
            } else {
                refuse(ttlSec > 0 ? PushResult.TOO_MANY_STORED : PushResult.OFFLINE, done);
            }
            return;
        }
        execute(s, failed, "push", pushTask(clientId, payload, ttlSec, done, failed, attempt));
    }

    /** A push's work on its session's loop. */
    private Consumer<Session> pushTask(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done,
                                       CompletableFuture<?> failed, int attempt) {
        return cur -> {
            if (cur.state() == Session.OFFLINE && registry.directory().shared()) {
                registry.directory().pushElsewhere(clientId, payload, ttlSec, done); // left between resolve and now
                return;
            }
            long expiresAtMs = expiry(cur, ttlSec);
            PushResult r = pushHere(cur, payload, expiresAtMs, null);
            if (r == Session.RETRY) {
                push(clientId, payload, ttlSec, done, failed, attempt + 1); // it died on the way: resolve it again
            } else {
                keep(cur, r, payload, expiresAtMs, done);
            }
        };
    }

    /**
     * In a cluster: a push another node routed here for a client it found claimed by this node. {@code done} gets
     * the result, or {@code null} when the client is not connected here (it left, or was never here): the caller
     * then treats it as offline.
     */
    public void pushIfHere(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done) {
        pushAllIfHere(clientId, List.of(new PushRequest(clientId, payload, ttlSec)), (r, k) -> done.accept(r));
    }

    /**
     * In a cluster: pushes another node routed here together for one client ({@code items}, all for
     * {@code clientId}), in their order: one look for its session and one turn with it, so that none is pushed
     * to a session found later (the client connected again meanwhile) ahead of an earlier one. {@code done} gets
     * each result with its index; {@code null} when the client is not connected here, and then for every later item
     * too: the sender asks the cluster again for each, in order.
     */
    public void pushAllIfHere(String clientId, List<PushRequest> items, ObjIntConsumer<PushResult> done) {
        Session s = registry.find(clientId);
        if (s == null) {
            // "Not here" lets the sender's script void this node's claim and keep the message aside, so it must not
            // be said while a HELLO here is claiming the client: its session would start from the stored messages
            // its claim read before, without this one, and a later ACK would trim it unsent. A claim that completes
            // puts its session before it stops claiming, so one of the two looks sees it.
            if (registry.claiming(clientId)) {
                answerAll(items, 0, PushResult.CONNECTING, done);
                return;
            }
            s = registry.find(clientId);
            if (s == null) {
                answerAll(items, 0, null, done); // not here: the sender asks the cluster again
                return;
            }
        }
        // The items from next[0] on are not answered yet (changed on the session's loop only): if the task fails, or
        // never runs (its loop stopped), each of them is answered 503 once.
        int[] next = {0};
        CompletableFuture<Void> failed = new CompletableFuture<>();
        failed.whenComplete((v, e) -> {
            for (int k = next[0]; k < items.size(); k++) {
                done.accept(PushResult.storeFailed(e), k);
            }
        });
        execute(s, failed, "routed push", cur -> {
            for (int k = 0; k < items.size(); k++) {
                if (cur.dead() || cur.state() == Session.OFFLINE) {
                    PushResult gone = notHere(clientId);
                    next[0] = items.size();
                    answerAll(items, k, gone, done);
                    return;
                }
                PushRequest r = items.get(k);
                int index = k;
                Consumer<PushResult> one = res -> done.accept(res, index);
                PushResult early = precheck(r.payload(), r.ttlSec());
                long expiresAtMs = early == null ? expiry(cur, r.ttlSec()) : 0;
                PushResult res;
                try {
                    res = early != null ? early : pushHere(cur, r.payload(), expiresAtMs, null);
                } catch (RuntimeException | Error e) {
                    countAndLog("routed push", "client " + clientId, cur.owner(), e);
                    next[0] = k + 1;
                    one.accept(PushResult.storeFailed(e)); // 503: the sender's backend may try again
                    continue;
                }
                if (res == Session.RETRY) {
                    PushResult gone = notHere(clientId);
                    next[0] = items.size();
                    answerAll(items, k, gone, done);
                    return;
                }
                next[0] = k + 1;
                if (early != null) {
                    refuse(early, one);
                } else {
                    keep(cur, res, r.payload(), expiresAtMs, one);
                }
            }
        });
    }

    /** Answers items {@code from} on with {@code r}, counting a refusal once each. */
    private void answerAll(List<PushRequest> items, int from, PushResult r, ObjIntConsumer<PushResult> done) {
        for (int k = from; k < items.size(); k++) {
            if (r != null) {
                metrics.refused(Session.refusalOf(r));
            }
            done.accept(r, k);
        }
    }

    /**
     * In a cluster: a disconnect another node routed here. Completes false when the client is not connected here
     * (never asks the cluster again).
     */
    public CompletableFuture<Boolean> disconnectIfHere(String clientId, int code, String reason) {
        return registry.find(clientId) == null ? CompletableFuture.completedFuture(false)
                : disconnect(clientId, code, reason);
    }

    /** Pushes many messages, one task per owning loop; the future completes with results in request order. */
    @Override
    public CompletableFuture<PushResult[]> pushBatch(List<PushRequest> requests) {
        PushResult[] results = new PushResult[requests.size()];
        CompletableFuture<PushResult[]> future = new CompletableFuture<>();
        if (requests.isEmpty()) {
            future.complete(results);
            return future;
        }
        AtomicInteger remaining = new AtomicInteger(requests.size());
        Session[] sessions = new Session[requests.size()];
        int[] turns = new int[requests.size()];
        Map<SessionShard, List<Integer>> byLoop = new IdentityHashMap<>();
        List<Integer> elsewhere = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            PushRequest r = requests.get(i);
            PushResult early = precheck(r.payload(), r.ttlSec());
            Session s = early == null ? registry.resolve(r.clientId(), r.ttlSec()) : null;
            if (early == null && s == null && registry.directory().shared()) {
                elsewhere.add(i);
                continue;
            }
            if (early != null || s == null) {
                PushResult refusal = early != null ? early
                        : r.ttlSec() > 0 ? PushResult.TOO_MANY_STORED : PushResult.OFFLINE;
                metrics.refused(Session.refusalOf(refusal));
                results[i] = refusal;
                if (remaining.decrementAndGet() == 0) {
                    future.complete(results);
                }
                continue;
            }
            sessions[i] = s;
            byLoop.computeIfAbsent(s.owner(), k -> new ArrayList<>()).add(i);
        }
        if (!elsewhere.isEmpty()) {
            // Clients other nodes hold (or offline ones): the directory groups them per owner node.
            registry.directory().pushManyElsewhere(elsewhere.stream().map(requests::get).toList(), (res, k) -> {
                results[elsewhere.get(k)] = res;
                if (remaining.decrementAndGet() == 0) {
                    future.complete(results);
                }
            });
        }
        // Each message's turn with its session, in request order and before any push the caller makes after this
        // batch; taken last, right before the hand-over, as a turn taken must run (else later ones wait for it).
        for (int i = 0; i < sessions.length; i++) {
            if (sessions[i] != null) {
                turns[i] = sessions[i].takeTurn();
            }
        }
        byLoop.forEach((loop, indexes) -> {
            try {
                loop.executeNowOrLater(() -> {
                    try {
                        pushBatchHere(loop, indexes, requests, sessions, turns, results, remaining, future);
                    } catch (RuntimeException | Error e) {
                        failed(future, "batch push", indexes.size() + " messages", loop, e);
                    }
                });
            } catch (RejectedExecutionException stopped) {
                future.completeExceptionally(stopped); // the loop stopped (the server is closing): not pushed there
            }
        });
        return future;
    }

    /**
     * One loop's share of a batch, each message in its session's turn (one that moved to another loop meanwhile is
     * followed there); the last result in completes {@code future}.
     */
    private void pushBatchHere(SessionShard loop, List<Integer> indexes, List<PushRequest> requests,
                               Session[] sessions, int[] turns, PushResult[] results, AtomicInteger remaining,
                               CompletableFuture<PushResult[]> future) {
        for (int i : indexes) {
            PushRequest r = requests.get(i);
            int index = i;
            Consumer<PushResult> done = res -> {
                results[index] = res;
                if (remaining.decrementAndGet() == 0) {
                    future.complete(results);
                }
            };
            try {
                onLoop(sessions[i], turns[i], loop, future, "batch push",
                        pushTask(r.clientId(), r.payload(), r.ttlSec(), done, future, 1));
            } catch (RuntimeException | Error e) {
                // The failure handling of one message failed: the others still run in their turns (a turn taken
                // and never run would hold every later push to its client).
                future.completeExceptionally(e);
            }
        }
    }

    /** Sends to every connected client: one task per loop. Completes with what it reached. */
    @Override
    public CompletableFuture<Reach> broadcast(byte[] payload) {
        metrics.broadcasts.increment();
        return withOtherNodes(broadcastHere(payload), registry.directory().fanOut(null, payload, null));
    }

    /** A broadcast to this node's clients only (in a cluster, each node runs its own). */
    public CompletableFuture<Long> broadcastHere(byte[] payload) {
        SharedPayload share = new SharedPayload(payload.length); // one array for all: counted once while held
        return perLoop("broadcast", loop -> {
            long[] n = new long[1];
            loop.forEachSession(s -> {
                if (pushHere(s, payload, 0, null, null, null, share).ok()) {
                    n[0]++;
                }
            });
            return n[0];
        });
    }

    /** Sends to every connected subscriber of {@code topic} (best effort, ttl 0): one task per loop. */
    @Override
    public CompletableFuture<Reach> publish(String topic, byte[] payload) {
        return publish(topic, payload, null);
    }

    /** As {@link #publish(String, byte[])}, with what the publisher attached ({@code properties}; null: none). */
    public CompletableFuture<Reach> publish(String topic, byte[] payload, MessageProperties properties) {
        return publish(topic, payload, properties, null);
    }

    /**
     * As {@link #publish(String, byte[], MessageProperties)}, published by client {@code publisherId} (null: by the
     * backend): a subscription of that client made with No Local does not get it. The publisher's session is on this
     * node (it is connected here), so the other nodes need not know who published.
     */
    public CompletableFuture<Reach> publish(String topic, byte[] payload, MessageProperties properties,
                                            String publisherId) {
        return withOtherNodes(publishHere(topic, payload, properties, publisherId),
                registry.directory().fanOut(topic, payload, properties));
    }

    /** Sums what this node's clients and the other nodes' clients got (in one process, the others are none). */
    private static CompletableFuture<Reach> withOtherNodes(CompletableFuture<Long> here,
                                                           CompletableFuture<Reach> elsewhere) {
        return here.thenCombine(elsewhere, (n, others) -> Reach.of(n).plus(others));
    }

    /** A topic message to this node's subscribers only (in a cluster, each node runs its own). */
    public CompletableFuture<Long> publishHere(String topic, byte[] payload, MessageProperties properties) {
        return publishHere(topic, payload, properties, null);
    }

    private CompletableFuture<Long> publishHere(String topic, byte[] payload, MessageProperties properties,
                                                String publisherId) {
        // One array (and one set of properties) for all: counted once while held.
        SharedPayload share = new SharedPayload(
                (int) Math.min(Integer.MAX_VALUE, payload.length + (properties == null ? 0 : properties.bytes())));
        return perLoop("publish", loop -> {
            long[] n = new long[1];
            loop.topics().forEachMatch(topic, (filter, s) -> {
                if (publisherId != null && s.isNoLocal(filter) && s.id().equals(publisherId)) {
                    return; // its own message, and it asked not to get those back
                }
                if (s.online() && pushHere(s, payload, 0, Refusal.TOPIC_QUEUE_FULL, topic, properties, share).ok()) {
                    n[0]++;
                }
            });
            metrics.topicDeliveries.add(n[0]);
            return n[0];
        });
    }

    @Override
    public boolean retain(String topic, byte[] payload) {
        return retain(topic, payload, null, registry.nowMs());
    }

    /**
     * As {@link #retain(String, byte[])}, with what the publisher attached ({@code properties}; null: none), at
     * {@code nowMs} (epoch ms, the shards' clock).
     */
    public boolean retain(String topic, byte[] payload, MessageProperties properties, long nowMs) {
        if (registry.retained().retain(topic, payload, properties, nowMs) == RetainedMessages.Outcome.FULL) {
            metrics.refused(Refusal.RETAINED_FULL);
            return false;
        }
        registry.directory().retained(topic, payload, properties);
        return true;
    }

    /** A snapshot of one client, or {@code null} when unknown. */
    @Override
    public CompletableFuture<ClientInfo> info(String clientId) {
        CompletableFuture<ClientInfo> f = new CompletableFuture<>();
        Session s = registry.find(clientId);
        ClientDirectory directory = registry.directory();
        if (s == null) {
            if (directory.shared()) {
                return directory.info(clientId);
            }
            f.complete(null);
            return f;
        }
        execute(s, f, "info", cur -> {
            if (cur.dead()) {
                // Ended between the look-up above and this task: in a cluster the client is the cluster's now (kept
                // offline, its stored messages, or already on another node); in one process it is gone.
                if (directory.shared()) {
                    completeWith(f, directory.info(clientId));
                } else {
                    f.complete(null);
                }
                return;
            }
            ClientLink l = cur.link();
            f.complete(new ClientInfo(cur.id(), cur.online(), cur.sinceMs(), l == null ? null : l.remoteAddress(),
                    l == null ? null : l.protocol(),
                    cur.lastSeq(), cur.ackedSeq(), cur.queued(), cur.queuedBytes(), cur.inFlight(),
                    directory.node()));
        });
        return f;
    }

    /** Closes the client's connection with {@code BYE code reason}; completes false when it was not connected. */
    @Override
    public CompletableFuture<Boolean> disconnect(String clientId, int code, String reason) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        Session s = registry.find(clientId);
        if (s == null) {
            if (registry.directory().shared()) {
                return registry.directory().disconnect(clientId, code, reason);
            }
            f.complete(false);
            return f;
        }
        execute(s, f, "disconnect", cur -> {
            if (cur.dead() && registry.directory().shared()) {
                // Ended between the look-up above and this task: the client may be on another node by now.
                completeWith(f, registry.directory().disconnect(clientId, code, reason));
                return;
            }
            ClientLink l = cur.link();
            if (l == null) {
                f.complete(false);
                return;
            }
            registry.close(cur, l, Refusal.DISCONNECTED_BY_API, code, reason);
            f.complete(true);
        });
        return f;
    }

    @Override
    public void flushPushes() {
        for (SessionShard loop : registry.loops()) {
            if (loop.inLoop()) {
                loop.flushWritten();
                return;
            }
        }
    }

    private PushResult precheck(byte[] payload, int ttlSec) {
        if (registry.draining()) {
            return PushResult.DRAINING;
        }
        if (payload.length > registry.limits().maxPayloadBytes()) {
            return PushResult.TOO_LARGE;
        }
        if (ttlSec > 0 && registry.store().full(payload.length)) {
            return PushResult.STORE_FULL;
        }
        if (registry.queuedBytes().full(payload.length)) {
            // Early, before an offline session is made or a loop is woken; the loop's own check is the exact one.
            return PushResult.QUEUED_TOTAL_FULL;
        }
        return null;
    }

    private void refuse(PushResult r, Consumer<PushResult> done) {
        metrics.refused(Session.refusalOf(r));
        done.accept(r);
    }

    /** When a message pushed now with {@code ttlSec} expires (capped by --max-ttl); 0 for ttl 0. */
    private long expiry(Session s, int ttlSec) {
        int ttl = Math.min(ttlSec, registry.limits().maxTtlSec());
        return ttl <= 0 ? 0 : s.owner().nowMs() + ttl * 1000L;
    }

    /**
     * Pushes on the owning loop and keeps the offline bookkeeping right; counts a refusal once, a full client queue
     * under {@code reason} (when not null), any other refusal under its own reason.
     */
    private PushResult pushHere(Session s, byte[] payload, long expiresAtMs, Refusal reason) {
        return pushHere(s, payload, expiresAtMs, reason, null, null, null);
    }

    /**
     * {@link #pushHere(Session, byte[], long, Refusal)} of a message published to {@code topic}; {@code share} when
     * the same array goes to many clients (null: a payload of its own).
     */
    private PushResult pushHere(Session s, byte[] payload, long expiresAtMs, Refusal reason, String topic,
                                MessageProperties properties, SharedPayload share) {
        PushResult r = s.push(payload, expiresAtMs, true, topic, properties, share);
        if (r == Session.RETRY) {
            registry.created(s); // it died: no longer one being made
            return r;
        }
        if (s.state() == Session.OFFLINE) {
            if (s.queued() == 0 && !s.keptAt(s.owner().nowMs())) {
                registry.remove(s);
            } else {
                s.owner().addOffline(s);
            }
        }
        registry.created(s);
        if (!r.ok()) {
            metrics.refused(reason != null && r == PushResult.QUEUE_FULL ? reason : Session.refusalOf(r));
        }
        return r;
    }

    /** A routed push's "not here" (null), or 503 while a HELLO here claims the client (see {@link #pushIfHere}). */
    private PushResult notHere(String clientId) {
        return registry.claiming(clientId) ? PushResult.CONNECTING : null;
    }

    /**
     * Answers an accepted push: at once for ttl 0, else once the store kept the stored message. A failed store is
     * answered 503 and the message taken back, unless a connection had it already (see {@link Session#withdraw}).
     */
    private void keep(Session s, PushResult r, byte[] payload, long expiresAtMs, Consumer<PushResult> done) {
        if (!r.ok() || expiresAtMs == 0) {
            done.accept(r);
            return;
        }
        StoreAnswer answer = new StoreAnswer(r, s.id(), done, (id, failure) -> {
            storeFailed(id, failure, done);
            long seq = r.seq();
            execute(s, new CompletableFuture<>(), "withdraw", cur -> {
                if (!cur.dead() && cur.withdraw(seq)) {
                    metrics.pushesAccepted.decrement(); // answered 503: not accepted after all
                }
            });
        });
        try {
            registry.store().append(s.id(), s.epoch(), r.seq(), expiresAtMs, payload, answer);
        } catch (RuntimeException e) {
            answer.done(e);
        }
        if (!answer.answered()) {
            // A store that never reports would hold this answer, and every later one on the same API connection.
            answer.timeout(s.owner().eventLoop().schedule(answer, STORE_APPEND_TIMEOUT_MS, TimeUnit.MILLISECONDS));
        }
    }

    private void storeFailed(String clientId, Throwable failure, Consumer<PushResult> done) {
        PushResult failed = PushResult.storeFailed(failure);
        metrics.refused(Refusal.STORE_FAILED);
        if (storeFailuresLogged.getAndIncrement() % 1000 == 0) {
            log.warn("message store failed to keep a message for {} (every 1000th failure is logged): {}",
                    clientId, failure.toString());
        }
        done.accept(failed);
    }

    /**
     * Runs {@code work} once on every loop and completes with the sum; every loop does its share even when another
     * one fails, and the future then completes exceptionally with the first failure.
     */
    private CompletableFuture<Long> perLoop(String what, java.util.function.Function<SessionShard, Long> work) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        AtomicLong total = new AtomicLong();
        List<SessionShard> shards = List.copyOf(registry.loops()); // its size and its loops from one moment
        AtomicInteger remaining = new AtomicInteger(shards.size());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable oneDone = () -> {
            if (remaining.decrementAndGet() == 0) {
                Throwable e = failure.get();
                if (e == null) {
                    f.complete(total.get());
                } else {
                    f.completeExceptionally(e);
                }
            }
        };
        for (SessionShard loop : shards) {
            try {
                loop.execute(() -> {
                    try {
                        total.addAndGet(work.apply(loop));
                    } catch (RuntimeException | Error e) {
                        countAndLog(what, "every session of the loop", loop, e);
                        failure.compareAndSet(null, e);
                    }
                    oneDone.run();
                });
            } catch (RejectedExecutionException stopped) {
                failure.compareAndSet(null, stopped); // the loop stopped (the server is closing): its share not done
                oneDone.run();
            }
        }
        return f;
    }

    /**
     * Runs {@code task} on {@code s}'s loop in the session's next turn; a task that throws (or cannot follow a moved
     * session) completes {@code failed} exceptionally instead of leaving it pending.
     */
    private void execute(Session s, CompletableFuture<?> failed, String what, Consumer<Session> task) {
        inTurn(s, s.takeTurn(), failed, what, task);
    }

    /** Hands {@code task} to {@code s}'s loop, to run there in {@code turn} (see {@link SessionTurns}). */
    private void inTurn(Session s, int turn, CompletableFuture<?> failed, String what, Consumer<Session> task) {
        SessionShard at = s.owner();
        // Called on the session's own loop (an API request read there) it runs at once: no task, no hand-over.
        try {
            at.executeNowOrLater(() -> onLoop(s, turn, at, failed, what, task));
        } catch (RejectedExecutionException stopped) {
            failed.completeExceptionally(stopped); // the loop stopped (the server is closing): the task never ran
        }
    }

    /** On {@code at}'s loop: runs {@code task} in {@code s}'s {@code turn}, or follows {@code s} if it moved. */
    private void onLoop(Session s, int turn, SessionShard at, CompletableFuture<?> failed, String what,
                        Consumer<Session> task) {
        if (s.owner() != at) {
            inTurn(s, turn, failed, what, task); // it moved to another loop meanwhile: there, in the same turn
            return;
        }
        registry.turns().run(s, turn, () -> {
            try {
                task.accept(s);
            } catch (RuntimeException | Error e) {
                failed(failed, what, "client " + s.id(), at, e);
            }
        });
    }

    private static <T> void completeWith(CompletableFuture<T> f, CompletableFuture<T> answer) {
        answer.whenComplete((v, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(v);
            }
        });
    }

    /** A loop task of {@code what} threw: counted, logged once with its context, and handed to the waiting caller. */
    private void failed(CompletableFuture<?> f, String what, String subject, SessionShard loop, Throwable e) {
        countAndLog(what, subject, loop, e);
        f.completeExceptionally(e);
    }

    private void countAndLog(String what, String subject, SessionShard loop, Throwable e) {
        metrics.loopErrors.increment();
        log.warn("{} ({}) failed on loop {}: {}", what, subject, loop.index(), e.toString());
    }
}
