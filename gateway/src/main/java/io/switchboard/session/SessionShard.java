package io.switchboard.session;

import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadEventLoop;
import io.switchboard.clock.Clock;
import io.switchboard.loop.Loop;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The sessions one event loop owns: its connections (on a generic {@link Loop} with the timing wheel), the offline
 * sessions it keeps for their stored messages, and its share of the topic index. Broadcasts and topic pushes are one
 * task per shard, not one per client.
 *
 * <p>Owned by its event loop: only that thread touches it; other threads hand work over with {@link #execute}.
 */
public final class SessionShard {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SessionShard.class);

    /** Each offline session is looked at for expiry about this often (a share of them at every tick). */
    static final int OFFLINE_SWEEP_EVERY_SEC = 5;
    /** Offline sessions a tick looks at, at least (all of them below this). */
    static final int OFFLINE_SWEEP_MIN_PER_TICK = 1000;

    private final Loop<ShardMember> loop;
    private final SessionRegistry registry;
    private final TopicIndex topics;
    /** Offline sessions kept for stored messages; a set so that an online session pays nothing for it. */
    private final LinkedHashSet<Session> offline = new LinkedHashSet<>();
    /** Ticks swept so far, and how many offline sessions each tick of the current round looks at. */
    private long sweepTicks;
    private int sweepShare;
    /** Connections over their frame budget, resumed at the next tick; empty unless a client floods. */
    private java.util.ArrayList<Runnable> resumeNextTick = new java.util.ArrayList<>();
    /** Connections written to and not flushed yet in this iteration of the loop ({@link #flushSoon}). */
    private final java.util.ArrayList<ClientLink> written = new java.util.ArrayList<>();
    private final Runnable flushWritten = this::flushWritten;
    /** Pushes run inside an API read on this loop: their flushes wait for {@link #flushWritten()}. */
    private boolean holdFlushes;

    SessionShard(int index, EventLoop eventLoop, Clock clock, SessionRegistry registry) {
        this.topics = new TopicIndex((filter, wildcard, added) -> registry.directory().topicInterest(filter, wildcard,
                added));
        this.loop = new Loop<>(index, eventLoop, clock);
        this.registry = registry;
    }

    public int index() {
        return loop.index();
    }

    /** The generic loop: time, deadlines, members. */
    public Loop<ShardMember> loop() {
        return loop;
    }

    public EventLoop eventLoop() {
        return loop.eventLoop();
    }

    public boolean inLoop() {
        return loop.inLoop();
    }

    public void execute(Runnable task) {
        loop.execute(task);
    }

    /**
     * Runs {@code task} at once when called on this loop with nothing queued before it (a push from an API request
     * read on the session's own loop: no hand-over), else hands it over as {@link #execute} does. Only for tasks
     * that may run inside the caller's own work. Run at once, the flushes of its pushes wait for
     * {@link #flushWritten()} (the API calls it at the end of its read) or the end of the loop's current work.
     */
    public void executeNowOrLater(Runnable task) {
        if (loop.inLoopWithNothingQueued()) {
            holdFlushes = true; // the caller's read may push more to the same clients: one write for them all
            task.run();
        } else {
            loop.execute(task);
        }
    }

    /**
     * While the pushes of an API read run on this loop ({@link #executeNowOrLater}): flushes {@code link} at
     * {@link #flushWritten()}, at the latest once this loop's current work is done (after the events and tasks of
     * this iteration), so that many pushes to one client in one read leave in one write. False otherwise, or when
     * this loop cannot defer it (not a Netty event loop, or shutting down): the caller flushes at once.
     */
    public boolean flushSoon(ClientLink link) {
        if (!holdFlushes || !(loop.eventLoop() instanceof SingleThreadEventLoop l)) {
            return false; // a push of its own (a task, a broadcast): its message leaves at once
        }
        if (written.isEmpty()) {
            try {
                l.executeAfterEventLoopIteration(flushWritten);
            } catch (RejectedExecutionException e) {
                return false;
            }
        }
        written.add(link);
        return true;
    }

    /**
     * Flushes every connection written to since the last call; on the loop. The API calls it before it answers the
     * requests of one read, so that a client's message leaves before the push's answer does.
     */
    public void flushWritten() {
        // A flush can make a connection writable again and so queue more (and another flush): the list may grow.
        for (int i = 0; i < written.size(); i++) {
            written.get(i).flushNow();
        }
        written.clear();
        holdFlushes = false;
    }

    /** Loop seconds (see {@link Loop#nowSec()}). */
    public long nowSec() {
        return loop.nowSec();
    }

    public long nowMs() {
        return loop.nowMs();
    }

    /** The registry of the sessions this shard owns. */
    public SessionRegistry registry() {
        return registry;
    }

    /** Advances time: fires due deadlines and sweeps offline sessions. Called once a second by the server. */
    public void tick() {
        loop.tick();
        if (!resumeNextTick.isEmpty()) {
            java.util.ArrayList<Runnable> due = resumeNextTick;
            resumeNextTick = new java.util.ArrayList<>();
            // Each on its own: one that throws must not leave the others' connections unread for good.
            for (Runnable r : due) {
                io.switchboard.loop.LoopTasks.survive(r, registry.metrics().loopErrors, LOG, "resuming a reader",
                        index());
            }
        }
        sweepOffline();
    }

    /**
     * Looks at a share of the offline sessions for expiry, so that each comes up about every
     * {@link #OFFLINE_SWEEP_EVERY_SEC}: the oldest looked at first, moved to the end, then swept (which may remove
     * it). A share per tick, not all every 5 s over a copy of the set: with a million offline sessions that was a
     * stall of the loop and a million-entry array each time.
     */
    private void sweepOffline() {
        if (sweepTicks++ % OFFLINE_SWEEP_EVERY_SEC == 0) {
            // A round: the sessions there are now, a share at each of its ticks (the share fixed for the round, so
            // that those removed early do not make the later shares smaller).
            sweepShare = Math.max(OFFLINE_SWEEP_MIN_PER_TICK,
                    (offline.size() + OFFLINE_SWEEP_EVERY_SEC - 1) / OFFLINE_SWEEP_EVERY_SEC);
        }
        int share = Math.min(offline.size(), sweepShare);
        for (int i = 0; i < share; i++) {
            Session s = offline.getFirst();
            offline.addLast(s); // to the end: the next tick starts with the ones not looked at yet
            registry.sweepOffline(s);
        }
    }

    /** Runs {@code resume} at the next tick, when a new loop second has refilled the frame budgets. */
    public void resumeNextTick(Runnable resume) {
        resumeNextTick.add(resume);
    }

    /** Calls {@code action} for every connection on this shard that completed its handshake. */
    public void forEachSession(Consumer<Session> action) {
        for (int i = 0; i < loop.memberCount(); i++) {
            Session s = loop.member(i).session();
            if (s != null) {
                action.accept(s);
            }
        }
    }

    /** A copy of the connections, for operations that close them while iterating (drain). */
    public List<ShardMember> membersSnapshot() {
        return loop.membersSnapshot();
    }

    public int memberCount() {
        return loop.memberCount();
    }

    // ---- topics (subscriptions belong to sessions; the index finds them per shard)

    TopicIndex topics() {
        return topics;
    }

    /** Distinct topic filters subscribed on this shard. */
    public int topicCount() {
        return topics.filterCount();
    }

    // ---- offline sessions (kept for their stored messages)

    void addOffline(Session s) {
        if (offline.add(s)) {
            registry.offlineChanged(1);
        }
    }

    void removeOffline(Session s) {
        if (offline.remove(s)) {
            registry.offlineChanged(-1);
        }
    }

    public int offlineCount() {
        return offline.size();
    }
}
