package io.switchboard.session;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import io.switchboard.store.MemoryStore;
import io.switchboard.store.MessageStore;


import io.switchboard.service.PushService;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one shared index {@code client id -> session}, and the only way work reaches a session from another
 * thread: every operation is handed to the loop that owns the session ({@link #execute}), batched per loop where
 * it touches many clients. The index ({@link SessionTable}) holds the session itself; nothing else is allocated
 * per client.
 *
 * <p>Thread-safe. Pushes reach sessions through {@link #pushes()}, the core's
 * {@link io.switchboard.service.PushService}.
 */
public final class SessionRegistry {
    private static final Logger log = LoggerFactory.getLogger(SessionRegistry.class);

    /**
     * Delivery limits: per client, and {@code maxQueuedTotalBytes}, the payload bytes queued for all clients
     * together ({@code --max-queued-total}).
     */
    public record Limits(int windowMessages, int maxQueuedMessages, long maxQueuedBytes, int maxPayloadBytes,
                         int maxTtlSec, boolean seqOriginFromClock, int maxOfflineSessions, long maxQueuedTotalBytes) {
        /** Per-client limits only: no budget for all clients together. */
        public Limits(int windowMessages, int maxQueuedMessages, long maxQueuedBytes, int maxPayloadBytes,
                      int maxTtlSec, boolean seqOriginFromClock, int maxOfflineSessions) {
            this(windowMessages, maxQueuedMessages, maxQueuedBytes, maxPayloadBytes, maxTtlSec, seqOriginFromClock,
                    maxOfflineSessions, Long.MAX_VALUE);
        }
    }


    private final SessionTable sessions = new SessionTable();
    /**
     * The newest hello of each client id whose handshake has not completed: only it may complete, so an older hello
     * still on its way between loops can never win. An entry lives only while a handshake is in flight.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, Handshake> newestHello =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.CopyOnWriteArrayList<SessionShard> loops =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    /** {@link #loops} read-only, handed out on every push (was a copy each time). */
    private final List<SessionShard> loopsView = java.util.Collections.unmodifiableList(loops);
    private final Limits limits;
    private final GatewayMetrics metrics;
    private final MessageStore store;
    private final Deliveries pushes;
    private final RetainedMessages retained;
    private final UnreleasedQos2 unreleasedQos2 = new UnreleasedQos2();
    private final SessionTurns turns = new SessionTurns();
    private volatile boolean draining;
    /** Takeover notices from other nodes that arrived while a claim of this node was on its way: id -> epoch. */
    private final java.util.concurrent.ConcurrentHashMap<String, Long> fences =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_FENCES = 10_000;
    /** Who holds which client when several nodes share the clients; {@link ClientDirectory#LOCAL} in one process. */
    private volatile ClientDirectory directory = ClientDirectory.LOCAL;
    /** Sessions kept offline for their retained messages, over all loops (bounded by maxOfflineSessions). */
    private final AtomicInteger offlineSessions = new AtomicInteger();
    /** Bytes queued for all clients (DeliveryQueue#cost), bounded by {@link Limits#maxQueuedTotalBytes}. */
    private final QueuedBytes queuedBytes;

    /** @param store where stored messages (ttl > 0) are kept beyond the sessions' queues */
    public SessionRegistry(Limits limits, GatewayMetrics metrics, MessageStore store) {
        this(limits, metrics, store, new RetainedMessages(100_000, 64L << 20));
    }

    /** @param retained the topics' retained messages (MQTT), bounded by their own limits */
    public SessionRegistry(Limits limits, GatewayMetrics metrics, MessageStore store, RetainedMessages retained) {
        this.retained = retained;
        this.limits = limits;
        this.metrics = metrics;
        this.store = store;
        this.queuedBytes = new QueuedBytes(limits.maxQueuedTotalBytes());
        this.pushes = new Deliveries(this);
    }

    /** A registry whose stored messages live in memory only. */
    public SessionRegistry(Limits limits, GatewayMetrics metrics) {
        this(limits, metrics, new MemoryStore());
    }

    /** Pushes, broadcasts, topic pushes, info and disconnects: the core's door for the API and other edges. */
    public Deliveries pushes() {
        return pushes;
    }

    /** Runs the work handed to a session's loop in the order it was handed over. */
    SessionTurns turns() {
        return turns;
    }

    /** The topics' retained messages. */
    public RetainedMessages retained() {
        return retained;
    }

    /** MQTT's QoS 2 packet ids received and not released, kept between a client's connections. */
    public UnreleasedQos2 unreleasedQos2() {
        return unreleasedQos2;
    }

    MessageStore store() {
        return store;
    }

    /** Shares the clients with other nodes through {@code directory}; set once, before any client connects. */
    public void useDirectory(ClientDirectory directory) {
        this.directory = directory;
    }

    /** Who holds which client: {@link ClientDirectory#LOCAL} unless this node is part of a cluster. */
    public ClientDirectory directory() {
        return directory;
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

    /** The budget of payload bytes queued for all clients, and its use. */
    public QueuedBytes queuedBytes() {
        return queuedBytes;
    }

    /** The shards' clock (epoch ms; the wall clock before the first shard is added). */
    public long nowMs() {
        return loops.isEmpty() ? System.currentTimeMillis() : loops.get(0).nowMs();
    }

    /** The loops; a read-only view that iterates over the loops as they were when iteration began. */
    public List<SessionShard> loops() {
        return loopsView;
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
        ClientDirectory d = directory;
        if (!d.shared()) {
            newestHello.put(clientId, h); // the order of these puts decides which hello is the newest
            claim(clientId, h);
            return;
        }
        // In a cluster the client is claimed in the directory first. The put and the claim's dispatch are one step
        // per client id (the map's lock), so the newest hello here is also the one whose claim got the highest epoch.
        newestHello.compute(clientId, (id, older) -> {
            ClusterClaims answer = new ClusterClaims(clientId, h);
            try {
                d.claim(clientId, answer);
            } catch (RuntimeException e) {
                log.warn("claiming {} in the cluster failed: {}", clientId, e.toString());
                answer.failed("cluster unavailable"); // answered on the connection's loop, after this put
            }
            return h;
        });
    }

    /**
     * Whether a HELLO for {@code clientId} on this node is between its start and its session (in a cluster: its claim
     * in the directory is on its way, or answered and not yet applied).
     */
    public boolean claiming(String clientId) {
        return newestHello.containsKey(clientId);
    }

    /**
     * Notes that another node claimed {@code clientId} under {@code epoch} while this node's own claim was on its
     * way (the notice can overtake the claim's answer): that claim completes only if its epoch is newer. Bounded:
     * past {@link #MAX_FENCES} pending notices, the oldest are dropped (a dropped one leaves the old connection open
     * until it ends, fenced in Redis all the same).
     */
    private void fence(String clientId, long epoch) {
        if (fences.size() >= MAX_FENCES) {
            fences.clear();
        }
        fences.merge(clientId, epoch, Math::max);
    }

    /** Takes a directory's answer to one hello's claim back to that connection's loop. */
    private final class ClusterClaims implements ClientDirectory.Claimed {
        private final String id;
        private final Handshake h;

        ClusterClaims(String id, Handshake h) {
            this.id = id;
            this.h = h;
        }

        @Override
        public void claimed(long epoch, long lastSeq, List<MessageStore.Stored> kept) {
            h.shard().execute(() -> {
                ClusterHandshake claimed = new ClusterHandshake(h, epoch, lastSeq, kept);
                if (newestHello.replace(id, h, claimed)) {
                    claim(id, claimed);
                } else {
                    supersede(h);
                }
            });
        }

        @Override
        public void failed(String reason) {
            h.shard().execute(() -> {
                if (newestHello.remove(id, h)) {
                    metrics.refused(Refusal.CLUSTER_UNAVAILABLE);
                    h.unavailable(reason);
                    abandoned(id);
                } else {
                    supersede(h);
                }
            });
        }
    }

    /**
     * The newest hello for {@code clientId} failed its claim: a session an older hello left TRANSFERRING for it (that
     * one gave way at its completion) has nobody to complete it, and would take pushes no connection ever reads. It
     * leaves this node; its release is fenced by its own, older epoch, and what is pushed next is kept in Redis.
     */
    private void abandoned(String clientId) {
        Session s = sessions.get(clientId);
        if (s != null) {
            execute(s, cur -> {
                if (!newestHello.containsKey(clientId) && !cur.dead() && cur.state() == Session.TRANSFERRING
                        && cur.link() == null) {
                    handOver(cur);
                }
            });
        }
    }

    /**
     * Another node claimed {@code clientId} under {@code epoch}: a session here held under an older claim closes its
     * connection with {@code BYE 409 taken over} and leaves this node (its stored messages are the store's).
     */
    public void takenOver(String clientId, long epoch) {
        Session s = sessions.get(clientId);
        if (s == null) {
            if (newestHello.containsKey(clientId)) {
                fence(clientId, epoch); // a claim of this node is on its way: it must not complete if older
            }
            return;
        }
        execute(s, cur -> {
            if (cur.state() == Session.TRANSFERRING) {
                fence(clientId, epoch); // being claimed here again: that claim completes only if newer
                return;
            }
            if (newestHello.containsKey(clientId)) {
                // A reconnect here is claiming while the older connection is still online: its claim, answered
                // later, completes only if newer than this notice (else two connections would live, one of them
                // under an epoch Redis has already replaced).
                fence(clientId, epoch);
            }
            if (cur.dead() || cur.epoch() >= epoch) {
                return; // gone, or already held under a newer claim
            }
            ClientLink old = cur.link();
            if (old != null) {
                cur.detach(old, Session.OFFLINE, cur.owner().nowMs());
                metrics.takeovers.increment();
                metrics.refused(Refusal.TAKEN_OVER);
                metrics.sessionsOnline.decrementAndGet();
                old.close(409, "taken over", 0);
            }
            cur.owner().removeOffline(cur);
            handOver(cur);
        });
    }

    /**
     * Closes the connection of {@code clientId}'s session held under {@code epoch} with {@code BYE 503}, so that the
     * client resumes: the directory keeps a stored message for it that this session was not given (see
     * {@link Refusal#CLUSTER_RESUME}): one with {@code seq}, unless the session gave that seq itself by now, or (0) one
     * it surely was not given. No session online here under that claim any more: {@code ifGone} runs instead.
     */
    public void sendToResume(String clientId, long epoch, long seq, Runnable ifGone) {
        withOnlineSession(clientId, epoch, cur -> {
            if (seq == 0 || seq > cur.lastSeq()) {
                close(cur, cur.link(), Refusal.CLUSTER_RESUME, 503, "stored messages wait for this client: resume");
            }
        }, ifGone);
    }

    /** Runs {@code then} unless a session of {@code clientId} is online here under {@code epoch} (on its loop). */
    public void unlessOnline(String clientId, long epoch, Runnable then) {
        withOnlineSession(clientId, epoch, cur -> { }, then);
    }

    /**
     * On its loop, {@code online} with {@code clientId}'s session when it is online here under the claim of
     * {@code epoch}; else {@code gone}.
     */
    private void withOnlineSession(String clientId, long epoch, Consumer<Session> online, Runnable gone) {
        Session s = sessions.get(clientId);
        if (s == null) {
            gone.run();
            return;
        }
        execute(s, cur -> {
            if (cur.dead() || cur.epoch() != epoch || !cur.online() || cur.link() == null) {
                gone.run();
            } else {
                online.accept(cur);
            }
        });
    }

    /** Closes {@code s}'s connection {@code l} with {@code BYE code text}, counted as {@code why}. On its loop. */
    void close(Session s, ClientLink l, Refusal why, int code, String text) {
        metrics.refused(why);
        connectionClosed(s, l);
        l.close(code, text, 0);
    }

    private void claim(String clientId, Handshake h) {
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
        if (newestHello.get(s.id()) != h) {
            supersede(h); // a newer hello came meanwhile: this one must not take the session from it
            return;
        }
        if (s.dead()) {
            h.shard().execute(() -> {
                if (newestHello.get(s.id()) == h) {
                    claim(s.id(), h);
                } else {
                    supersede(h);
                }
            });
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
        // Atomically the last look: a newer hello that came after this check finds the session completed and takes
        // it over in turn.
        boolean newest = newestHello.remove(s.id(), h);
        if (!newest || s.owner() != h.shard() || s.state() != Session.TRANSFERRING || s.link() != null) {
            // A newer HELLO for the same id claimed the session between our transfer and now: it wins.
            supersede(h);
            return;
        }
        s.indexSubscriptions(); // after a move from another shard; a no-op otherwise
        if (h instanceof ClusterHandshake claimed) {
            Long fence = fences.remove(s.id());
            if (fence != null && fence > claimed.epoch()) {
                // Another node claimed the client after this claim (its notice came first): it wins.
                supersede(h);
                s.dropTransient();
                s.epoch(claimed.epoch()); // its release names its own claim: Redis ignores it, as it must
                handOver(s);
                return;
            }
            // The directory's copy is the whole truth: what this session held was written there before it was
            // answered, and a write it lost to this claim's epoch was answered 503.
            s.handOverQueue();
            s.restore(claimed.lastSeq(), claimed.kept());
            s.epoch(claimed.epoch());
            if (!h.open()) {
                s.dropTransient();
                handOver(s);
                return;
            }
        }
        if (!h.open()) {
            s.dropTransient(); // ttl=0 pushes that arrived while transferring were for that connection only
            // The connection that came for it went meanwhile: the session stays as it was, kept for its stored
            // messages or its expiry (an MQTT persistent session), as when a connection closes.
            boolean kept = s.keptAt(s.owner().nowMs());
            if (s.queued() == 0 && (!kept || offlineSessions.get() >= limits.maxOfflineSessions())) {
                if (kept) {
                    metrics.refused(Refusal.OFFLINE_SESSIONS_LIMIT); // as when a connection closes
                }
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

    private void supersede(Handshake h) {
        metrics.takeovers.increment();
        metrics.refused(Refusal.TAKEN_OVER);
        h.superseded();
    }

    /** Called by the protocol adapter, on the session's loop, when a connection that owned {@code s} closed. */
    public void connectionClosed(Session s, ClientLink link) {
        boolean wasOnline = s.link() == link;
        if (!wasOnline) {
            return;
        }
        metrics.sessionsOnline.decrementAndGet();
        boolean nothingKept = s.detach(link, Session.OFFLINE, s.owner().nowMs());
        if (directory.shared()) {
            handOver(s); // offline, the client is the cluster's: its stored messages are in the shared store
        } else if (nothingKept) {
            remove(s);
        } else if (s.queued() == 0 && offlineSessions.get() >= limits.maxOfflineSessions()) {
            // Kept only for its expiry (MQTT), and no room: it ends as if it had none.
            metrics.refused(Refusal.OFFLINE_SESSIONS_LIMIT);
            remove(s);
        } else {
            s.owner().addOffline(s);
        }
    }

    /** Removes an offline session whose stored messages all expired; on its shard's loop. */
    void sweepOffline(Session s) {
        if (s.state() == Session.OFFLINE && s.purgeExpired(s.owner().nowMs())) {
            remove(s);
        }
    }

    /** Ends {@code s} here for good; on its shard's loop. */
    void remove(Session s) {
        // Out of its loop's offline set too, whichever way it goes (a push that found it expired went without:
        // the offline count then only grew, until --max-offline-sessions refused every stored push with 429).
        s.owner().removeOffline(s);
        ended(s);
        s.dropQueue(); // empty on every path today; should one change, the budget still gets its bytes back
        s.unsubscribeAll();
        store.forget(s.id());
        s.state(Session.DEAD);
        sessions.remove(s);
    }

    /**
     * In a cluster: the session leaves this node (its connection ended or another node claimed it) and the
     * directory is told, so that the next claim, anywhere, continues after its seqs.
     */
    private void handOver(Session s) {
        ended(s);
        s.handOverQueue();
        s.unsubscribeAll();
        s.state(Session.DEAD);
        sessions.remove(s);
        directory.release(s.id(), s.epoch(), s.lastSeq());
    }

    /** The session held for {@code clientId}, or null. */
    Session find(String clientId) {
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
        // Nor below the seqs of a session that ended here (whichever client's): a session that assigned more than a
        // thousand seqs a millisecond, or a wall clock stepped back, would otherwise let a new session of the same
        // client number its first messages at or below what the client has, which its resume then drops as
        // received: a stored push answered 200, never delivered.
        // Above them, not at: a client whose session ended before it was given anything (its last seq its origin)
        // and that resumes from that seq must see another seq in WELCOME, or it takes its subscriptions as kept.
        return limits.seqOriginFromClock() ? Math.max(loop.nowMs() * 1000, highestEndedSeq.get() + 1) : 0;
    }

    /** The highest seq any session that ended here had assigned (for {@link #seqOrigin}). */
    private final java.util.concurrent.atomic.AtomicLong highestEndedSeq = new java.util.concurrent.atomic.AtomicLong();

    private void ended(Session s) {
        highestEndedSeq.accumulateAndGet(s.lastSeq(), Math::max);
        created(s); // one ended before its push reached it is no longer being made either
    }

    /**
     * The session for a push: existing, or a new offline one when the push is retained and fewer than
     * {@code maxOfflineSessions} are kept; {@code null} otherwise.
     */
    Session resolve(String clientId, int ttlSec) {
        Session s = sessions.get(clientId);
        if (s == null && ttlSec > 0 && !directory.shared()
                && offlineSessions.get() + creatingOffline.size() < limits.maxOfflineSessions()) {
            SessionShard home = loops.get(Math.floorMod(clientId.hashCode(), loops.size()));
            Session[] made = {null};
            s = sessions.computeIfAbsent(clientId,
                    id -> made[0] = new Session(id, home, Session.OFFLINE, home.nowMs(), seqOrigin(home)));
            if (made[0] != null) {
                creatingOffline.add(made[0]);
            }
        }
        return s;
    }

    /**
     * Offline sessions made by {@link #resolve} whose push has not reached their loop yet: counted against
     * --max-offline-sessions with the offline ones, which their loop counts only then. Without them one batch of
     * stored pushes to unknown clients made as many sessions as it had items, past the limit.
     */
    private final java.util.Set<Session> creatingOffline = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** {@code s}'s push reached its loop (which counts it offline, or ends it); on that loop. */
    void created(Session s) {
        if (!creatingOffline.isEmpty()) {
            creatingOffline.remove(s);
        }
    }

    // ---- recovery

    /**
     * Rebuilds the offline sessions of every client the store kept messages for; at start, before clients connect.
     * Completes, once every shard took its sessions, with how many clients were recovered.
     */
    public CompletableFuture<Integer> recover() {
        Map<SessionShard, List<Runnable>> work = new IdentityHashMap<>();
        int[] clients = new int[1];
        store.recover(new MessageStore.Recovery() {
            @Override
            public void client(String clientId, long lastSeq, List<MessageStore.Stored> messages) {
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
            }

            @Override
            public void highestSeq(long seq) {
                // As for a session that ended here: a new one numbers above it (seqOrigin), also on a clock that
                // went back across the restart.
                highestEndedSeq.accumulateAndGet(seq, Math::max);
            }
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

}
