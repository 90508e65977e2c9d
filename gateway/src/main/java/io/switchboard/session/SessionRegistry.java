package io.switchboard.session;

import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import io.switchboard.store.MemoryStore;
import io.switchboard.store.MessageStore;
import io.switchboard.service.ClientInfo;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import io.switchboard.service.PushService;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one shared index {@code client id -> session}, and the only way work reaches a session from another
 * thread: every operation is handed to the loop that owns the session ({@link #execute}), batched per loop where
 * it touches many clients. The index ({@link SessionTable}) holds the session itself; nothing else is allocated
 * per client.
 *
 * <p>Thread-safe. Results are delivered on the owning loop's thread. As the {@link PushService}, every task it hands
 * to a loop completes its future exceptionally when it throws (counted in {@code loopErrors}, logged once).
 */
public final class SessionRegistry implements PushService {
    private static final Logger log = LoggerFactory.getLogger(SessionRegistry.class);

    /** Per-client delivery limits. */
    public record Limits(int windowMessages, int maxQueuedMessages, long maxQueuedBytes, int maxPayloadBytes,
                         int maxTtlSec, boolean seqOriginFromClock, int maxOfflineSessions) {
    }

    private static final int MAX_RESOLVE_ATTEMPTS = 8;

    private final SessionTable sessions = new SessionTable();
    private final java.util.concurrent.CopyOnWriteArrayList<SessionShard> loops =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Limits limits;
    private final GatewayMetrics metrics;
    private final MessageStore store;
    private volatile boolean draining;
    /** Sessions kept offline for their retained messages, over all loops (bounded by maxOfflineSessions). */
    private final AtomicInteger offlineSessions = new AtomicInteger();
    private final AtomicLong storeFailuresLogged = new AtomicLong();

    /** @param store where stored messages (ttl > 0) are kept beyond the sessions' queues */
    public SessionRegistry(Limits limits, GatewayMetrics metrics, MessageStore store) {
        this.limits = limits;
        this.metrics = metrics;
        this.store = store;
    }

    /** A registry whose stored messages live in memory only. */
    public SessionRegistry(Limits limits, GatewayMetrics metrics) {
        this(limits, metrics, new MemoryStore());
    }

    MessageStore store() {
        return store;
    }

    /** Creates the shard of the sessions {@code eventLoop} will own; done once per loop at start. */
    public SessionShard addShard(io.netty.channel.EventLoop eventLoop, io.switchboard.clock.Clock clock) {
        SessionShard shard = new SessionShard(loops.size(), eventLoop, clock, this);
        loops.add(shard);
        return shard;
    }

    public Limits limits() {
        return limits;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    public List<SessionShard> loops() {
        return List.copyOf(loops);
    }

    /** Called by a loop when a session joins or leaves its offline set. */
    public void offlineChanged(int delta) {
        offlineSessions.addAndGet(delta);
    }

    /** Sessions kept offline for their retained messages. */
    public int offlineSessions() {
        return offlineSessions.get();
    }

    /** Sessions known, online or kept offline for retained messages. */
    public int size() {
        return sessions.size();
    }

    public boolean draining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }

    /** Runs {@code task} on the loop that owns {@code s}, following it if it moved on the way. */
    public void execute(Session s, Consumer<Session> task) {
        SessionShard at = s.owner();
        at.execute(() -> {
            if (s.owner() != at) {
                execute(s, task);
            } else {
                task.accept(s);
            }
        });
    }

    // ---- handshake and takeover

    /**
     * Claims the session of {@code clientId} for a connection that sent a valid {@code HELLO}. An older connection
     * of the same id is told {@code BYE 409 taken over}; the newest connection wins.
     */
    public void hello(String clientId, Handshake h) {
        SessionShard here = h.shard();
        Session s = sessions.get(clientId);
        if (s == null) {
            Session fresh = new Session(clientId, here, Session.TRANSFERRING, here.nowMs(), seqOrigin(here));
            s = sessions.putIfAbsent(fresh);
            if (s == null) {
                complete(fresh, h);
                return;
            }
        }
        execute(s, cur -> transfer(cur, h));
    }

    private void transfer(Session s, Handshake h) {
        if (s.dead()) {
            h.shard().execute(() -> hello(s.id(), h));
            return;
        }
        ClientLink old = s.link();
        long nowMs = s.owner().nowMs();
        if (old != null) {
            s.detach(old, Session.TRANSFERRING, nowMs);
            metrics.takeovers.increment();
            metrics.refused(Refusal.TAKEN_OVER);
            metrics.sessionsOnline.decrementAndGet();
            old.close(409, "taken over", 0);
        } else {
            s.owner().removeOffline(s);
            s.state(Session.TRANSFERRING);
        }
        SessionShard target = h.shard();
        if (target == s.owner()) {
            complete(s, h);
        } else {
            s.moveTo(target);
            target.execute(() -> complete(s, h));
        }
    }

    private void complete(Session s, Handshake h) {
        if (s.owner() != h.shard() || s.state() != Session.TRANSFERRING || s.link() != null) {
            // A newer HELLO for the same id claimed the session between our transfer and now: it wins.
            metrics.takeovers.increment();
            metrics.refused(Refusal.TAKEN_OVER);
            h.superseded();
            return;
        }
        s.indexSubscriptions(); // after a move from another shard; a no-op otherwise
        if (!h.open()) {
            s.dropTransient(); // ttl=0 pushes that arrived while transferring were for that connection only
            if (s.queued() == 0) {
                remove(s);
            } else {
                s.state(Session.OFFLINE);
                s.owner().addOffline(s);
            }
            return;
        }
        metrics.sessionsOnline.incrementAndGet();
        metrics.handshakes.increment();
        h.complete(s);
    }

    /** Called by the protocol adapter, on the session's loop, when a connection that owned {@code s} closed. */
    public void connectionClosed(Session s, ClientLink link) {
        boolean wasOnline = s.link() == link;
        if (!wasOnline) {
            return;
        }
        metrics.sessionsOnline.decrementAndGet();
        if (s.detach(link, Session.OFFLINE, s.owner().nowMs())) {
            remove(s);
        } else {
            s.owner().addOffline(s);
        }
    }

    /** Removes an offline session whose stored messages all expired; on its shard's loop. */
    void sweepOffline(Session s) {
        if (s.state() == Session.OFFLINE && s.purgeExpired(s.owner().nowMs())) {
            s.owner().removeOffline(s);
            remove(s);
        }
    }

    private void remove(Session s) {
        s.unsubscribeAll();
        store.forget(s.id());
        s.state(Session.DEAD);
        sessions.remove(s);
    }

    // ---- pushes

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
        Session s = resolve(clientId, ttlSec);
        if (s == null) {
            refuse(ttlSec > 0 ? PushResult.TOO_MANY_STORED : PushResult.OFFLINE, done);
            return;
        }
        execute(s, failed, "push", cur -> {
            long expiresAtMs = expiry(cur, ttlSec);
            PushResult r = pushHere(cur, payload, expiresAtMs, null);
            if (r == Session.RETRY) {
                push(clientId, payload, ttlSec, done, failed, attempt + 1);
            } else {
                keep(cur, r, payload, expiresAtMs, done);
            }
        });
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
        Map<SessionShard, List<Integer>> byLoop = new IdentityHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            PushRequest r = requests.get(i);
            PushResult early = precheck(r.payload(), r.ttlSec());
            Session s = early == null ? resolve(r.clientId(), r.ttlSec()) : null;
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
            byLoop.computeIfAbsent(s.owner(), k -> new ArrayList<>()).add(i);
        }
        byLoop.forEach((loop, indexes) -> loop.execute(() -> {
            try {
                pushBatchHere(loop, indexes, requests, results, remaining, future);
            } catch (RuntimeException | Error e) {
                failed(future, "batch push", indexes.size() + " messages", loop, e);
            }
        }));
        return future;
    }

    /** One loop's share of a batch; the last result in completes {@code future}. */
    private void pushBatchHere(SessionShard loop, List<Integer> indexes, List<PushRequest> requests,
                               PushResult[] results, AtomicInteger remaining, CompletableFuture<PushResult[]> future) {
        for (int i : indexes) {
            PushRequest r = requests.get(i);
            int index = i;
            Consumer<PushResult> done = res -> {
                results[index] = res;
                if (remaining.decrementAndGet() == 0) {
                    future.complete(results);
                }
            };
            Session s = sessions.get(r.clientId());
            if (s != null && s.owner() == loop) {
                long expiresAtMs = expiry(s, r.ttlSec());
                PushResult res = pushHere(s, r.payload(), expiresAtMs, null);
                if (res != Session.RETRY) {
                    keep(s, res, r.payload(), expiresAtMs, done);
                    continue;
                }
            }
            push(r.clientId(), r.payload(), r.ttlSec(), done, future, 1);
        }
    }

    /** Sends to every connected client: one task per loop. Completes with the number of clients reached. */
    @Override
    public CompletableFuture<Long> broadcast(byte[] payload) {
        metrics.broadcasts.increment();
        return perLoop("broadcast", loop -> {
            long[] n = new long[1];
            loop.forEachSession(s -> {
                if (pushHere(s, payload, 0, null).ok()) {
                    n[0]++;
                }
            });
            return n[0];
        });
    }

    /** Sends to every connected subscriber of {@code topic} (best effort, ttl 0): one task per loop. */
    @Override
    public CompletableFuture<Long> publish(String topic, byte[] payload) {
        return perLoop("publish", loop -> {
            long[] n = new long[1];
            loop.topics().forEachMatch(topic, s -> {
                if (s.online() && pushHere(s, payload, 0, Refusal.TOPIC_QUEUE_FULL).ok()) {
                    n[0]++;
                }
            });
            metrics.topicDeliveries.add(n[0]);
            return n[0];
        });
    }

    /** A snapshot of one client, or {@code null} when unknown. */
    @Override
    public CompletableFuture<ClientInfo> info(String clientId) {
        CompletableFuture<ClientInfo> f = new CompletableFuture<>();
        Session s = sessions.get(clientId);
        if (s == null) {
            f.complete(null);
            return f;
        }
        execute(s, f, "info", cur -> {
            if (cur.dead()) {
                f.complete(null);
                return;
            }
            ClientLink l = cur.link();
            f.complete(new ClientInfo(cur.id(), cur.online(), cur.sinceMs(), l == null ? null : l.remoteAddress(),
                    cur.lastSeq(), cur.ackedSeq(), cur.queued(), cur.queuedBytes(), cur.inFlight()));
        });
        return f;
    }

    /** Closes the client's connection with {@code BYE code reason}; completes false when it was not connected. */
    @Override
    public CompletableFuture<Boolean> disconnect(String clientId, int code, String reason) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        Session s = sessions.get(clientId);
        if (s == null) {
            f.complete(false);
            return f;
        }
        execute(s, f, "disconnect", cur -> {
            ClientLink l = cur.link();
            if (l == null) {
                f.complete(false);
                return;
            }
            metrics.refused(Refusal.DISCONNECTED_BY_API);
            connectionClosed(cur, l);
            l.close(code, reason, 0);
            f.complete(true);
        });
        return f;
    }

    /** The session held for {@code clientId}, or null; for tests that drive a session directly on its loop. */
    Session resolveForTest(String clientId) {
        return sessions.get(clientId);
    }

    // ---- internals

    /**
     * Where a new session's seq numbers start. From the clock (microseconds since 1970) a new session numbers above
     * anything an earlier session of the same client was given (as long as that one assigned fewer than a thousand
     * seqs per millisecond of its life), so a client resuming from a forgotten session, or across a restart, never
     * has new messages taken for ones it already received.
     */
    private long seqOrigin(SessionShard loop) {
        return limits.seqOriginFromClock() ? loop.nowMs() * 1000 : 0;
    }

    private PushResult precheck(byte[] payload, int ttlSec) {
        if (draining) {
            return PushResult.DRAINING;
        }
        if (payload.length > limits.maxPayloadBytes()) {
            return PushResult.TOO_LARGE;
        }
        return null;
    }

    private void refuse(PushResult r, Consumer<PushResult> done) {
        metrics.refused(Session.refusalOf(r));
        done.accept(r);
    }

    /**
     * The session for a push: existing, or a new offline one when the push is retained and fewer than
     * {@code maxOfflineSessions} are kept; {@code null} otherwise.
     */
    private Session resolve(String clientId, int ttlSec) {
        Session s = sessions.get(clientId);
        if (s == null && ttlSec > 0 && offlineSessions.get() < limits.maxOfflineSessions()) {
            SessionShard home = loops.get(Math.floorMod(clientId.hashCode(), loops.size()));
            s = sessions.computeIfAbsent(clientId,
                    id -> new Session(id, home, Session.OFFLINE, home.nowMs(), seqOrigin(home)));
        }
        return s;
    }

    /** When a message pushed now with {@code ttlSec} expires (capped by --max-ttl); 0 for ttl 0. */
    private long expiry(Session s, int ttlSec) {
        int ttl = Math.min(ttlSec, limits.maxTtlSec());
        return ttl <= 0 ? 0 : s.owner().nowMs() + ttl * 1000L;
    }

    /**
     * Pushes on the owning loop and keeps the offline bookkeeping right; counts a refusal once, under
     * {@code reason} (or its own status when null).
     */
    private PushResult pushHere(Session s, byte[] payload, long expiresAtMs, Refusal reason) {
        PushResult r = s.push(payload, expiresAtMs, true);
        if (r == Session.RETRY) {
            return r;
        }
        if (s.state() == Session.OFFLINE) {
            if (s.queued() == 0) {
                remove(s);
            } else {
                s.owner().addOffline(s);
            }
        }
        if (!r.ok()) {
            metrics.refused(reason != null ? reason : Session.refusalOf(r));
        }
        return r;
    }

    /**
     * Answers an accepted push: at once for ttl 0, else once the store kept the stored message (a failed store is
     * answered 503; the message stays queued for a connected client).
     */
    private void keep(Session s, PushResult r, byte[] payload, long expiresAtMs, Consumer<PushResult> done) {
        if (!r.ok() || expiresAtMs == 0) {
            done.accept(r);
            return;
        }
        try {
            store.append(s.id(), r.seq(), expiresAtMs, payload, failure -> {
                if (failure == null) {
                    done.accept(r);
                } else {
                    storeFailed(s.id(), failure, done);
                }
            });
        } catch (RuntimeException e) {
            storeFailed(s.id(), e, done);
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

    // ---- recovery

    /**
     * Rebuilds the offline sessions of every client the store kept messages for; at start, before clients connect.
     * Completes, once every shard took its sessions, with how many clients were recovered.
     */
    public CompletableFuture<Integer> recover() {
        Map<SessionShard, List<Runnable>> work = new IdentityHashMap<>();
        int[] clients = new int[1];
        store.recover((clientId, lastSeq, messages) -> {
            SessionShard home = loops.get(Math.floorMod(clientId.hashCode(), loops.size()));
            Session s = new Session(clientId, home, Session.OFFLINE, home.nowMs(), seqOrigin(home));
            if (sessions.putIfAbsent(s) != null) {
                throw new IllegalStateException("the store recovered client " + clientId + " twice");
            }
            clients[0]++;
            work.computeIfAbsent(home, k -> new ArrayList<>()).add(() -> {
                s.restore(lastSeq, messages);
                if (s.queued() == 0) {
                    remove(s);
                } else {
                    home.addOffline(s);
                }
            });
        });
        CompletableFuture<Integer> done = new CompletableFuture<>();
        AtomicInteger remaining = new AtomicInteger(work.size());
        if (work.isEmpty()) {
            done.complete(0);
        }
        work.forEach((shard, tasks) -> shard.execute(() -> {
            try {
                tasks.forEach(Runnable::run);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
            if (remaining.decrementAndGet() == 0) {
                done.complete(clients[0]);
            }
        }));
        return done;
    }

    /**
     * Runs {@code work} once on every loop and completes with the sum; every loop does its share even when another
     * one fails, and the future then completes exceptionally with the first failure.
     */
    private CompletableFuture<Long> perLoop(String what, java.util.function.Function<SessionShard, Long> work) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        AtomicLong total = new AtomicLong();
        AtomicInteger remaining = new AtomicInteger(loops.size());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (SessionShard loop : loops) {
            loop.execute(() -> {
                try {
                    total.addAndGet(work.apply(loop));
                } catch (RuntimeException | Error e) {
                    countAndLog(what, "every session of the loop", loop, e);
                    failure.compareAndSet(null, e);
                }
                if (remaining.decrementAndGet() == 0) {
                    Throwable e = failure.get();
                    if (e == null) {
                        f.complete(total.get());
                    } else {
                        f.completeExceptionally(e);
                    }
                }
            });
        }
        return f;
    }

    /**
     * Like {@link #execute(Session, Consumer)}, but a task that throws (or cannot follow a moved session) completes
     * {@code failed} exceptionally instead of leaving it pending.
     */
    private void execute(Session s, CompletableFuture<?> failed, String what, Consumer<Session> task) {
        SessionShard at = s.owner();
        at.execute(() -> {
            try {
                if (s.owner() != at) {
                    execute(s, failed, what, task);
                } else {
                    task.accept(s);
                }
            } catch (RuntimeException | Error e) {
                failed(failed, what, "client " + s.id(), at, e);
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
