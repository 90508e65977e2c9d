package io.switchboard.session;

import io.netty.channel.EventLoop;
import io.switchboard.clock.Clock;
import io.switchboard.loop.Loop;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Consumer;

/**
 * The sessions one event loop owns: its connections (on a generic {@link Loop} with the timing wheel), the offline
 * sessions it keeps for their stored messages, and its share of the topic index. Broadcasts and topic pushes are one
 * task per shard, not one per client.
 *
 * <p>Owned by its event loop: only that thread touches it; other threads hand work over with {@link #execute}.
 */
public final class SessionShard {
    static final int OFFLINE_SWEEP_EVERY_SEC = 5;

    private final Loop<ShardMember> loop;
    private final SessionRegistry registry;
    private final TopicIndex topics;
    /** Offline sessions kept for stored messages; a set so that an online session pays nothing for it. */
    private final LinkedHashSet<Session> offline = new LinkedHashSet<>();
    private long nextOfflineSweepSec = OFFLINE_SWEEP_EVERY_SEC;
    /** Connections over their frame budget, resumed at the next tick; empty unless a client floods. */
    private java.util.ArrayList<Runnable> resumeNextTick = new java.util.ArrayList<>();

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
            due.forEach(Runnable::run);
        }
        if (loop.nowSec() >= nextOfflineSweepSec) {
            nextOfflineSweepSec = loop.nowSec() + OFFLINE_SWEEP_EVERY_SEC;
            // Over a copy: the sweep removes sessions from the set.
            for (Session s : offline.toArray(new Session[0])) {
                registry.sweepOffline(s);
            }
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
