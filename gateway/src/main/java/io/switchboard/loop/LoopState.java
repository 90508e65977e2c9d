package io.switchboard.loop;

import io.netty.channel.EventLoop;
import io.switchboard.clock.Clock;
import io.switchboard.session.Session;
import io.switchboard.session.SessionRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Everything one event loop owns: its connections, its timing wheel, its share of topic subscriptions and the
 * offline sessions it keeps. Only the loop's own thread touches it; other threads hand work over with
 * {@link #execute}. Broadcasts and topic pushes are one task per loop, not one per client.
 */
public final class LoopState {
    /** Wheel span in seconds; longer deadlines go round again. */
    static final int WHEEL_SLOTS = 1024;
    /** At most this many deadlines fire per tick, so a mass timeout cannot stall the loop. */
    static final int EXPIRIES_PER_TICK = 20_000;
    static final int OFFLINE_SWEEP_EVERY_SEC = 5;

    private final int index;
    private final EventLoop loop;
    private final Clock clock;
    private final DeadlineWheel<LoopMember> wheel;
    private LoopMember[] members = new LoopMember[64];
    private int memberCount;
    private final Map<String, ArrayList<LoopMember>> topics = new HashMap<>();
    /** Offline sessions kept for retained messages; a set so that an online session pays nothing for it. */
    private final java.util.LinkedHashSet<Session> offline = new java.util.LinkedHashSet<>();
    /** Loop time starts at 0: seconds fit an int in per-connection fields for 68 years. */
    private final long baseSec;
    private long nowSec;
    private long nextOfflineSweepSec;
    private Consumer<Session> offlineSweeper = s -> { };
    private SessionRegistry registry;

    public LoopState(int index, EventLoop loop, Clock clock) {
        this.index = index;
        this.loop = loop;
        this.clock = clock;
        this.baseSec = clock.monotonicNs() / 1_000_000_000L;
        this.nowSec = 0;
        this.wheel = new DeadlineWheel<>(WHEEL_SLOTS, nowSec);
        this.nextOfflineSweepSec = nowSec + OFFLINE_SWEEP_EVERY_SEC;
    }

    public int index() {
        return index;
    }

    public EventLoop loop() {
        return loop;
    }

    public boolean inLoop() {
        return loop.inEventLoop();
    }

    public void execute(Runnable task) {
        loop.execute(task);
    }

    /**
     * Seconds since this loop started, refreshed once a tick: cheap to read on every frame. Deadlines on the wheel
     * are in this time base.
     */
    public long nowSec() {
        return nowSec;
    }

    public long nowMs() {
        return clock.nowMs();
    }

    /** Binds this loop to the registry whose sessions it owns; once, at start. */
    public void attach(SessionRegistry registry, Consumer<Session> sweeper) {
        this.registry = registry;
        this.offlineSweeper = sweeper;
    }

    /** The registry of the sessions this loop owns. */
    public SessionRegistry registry() {
        return registry;
    }

    /** Advances time: fires due deadlines and sweeps offline sessions. Called once a second by the server. */
    public void tick() {
        nowSec = clock.monotonicNs() / 1_000_000_000L - baseSec;
        wheel.poll(nowSec, LoopMember::onDeadline, EXPIRIES_PER_TICK);
        if (nowSec >= nextOfflineSweepSec) {
            nextOfflineSweepSec = nowSec + OFFLINE_SWEEP_EVERY_SEC;
            // Iterate over a copy: the sweeper may remove sessions from the list.
            for (Session s : offline.toArray(new Session[0])) {
                offlineSweeper.accept(s);
            }
        }
    }

    // ---- deadlines

    public void schedule(LoopMember m, long deadlineSec) {
        wheel.schedule(m, deadlineSec);
    }

    public void cancelDeadline(LoopMember m) {
        wheel.cancel(m);
    }

    public int scheduledDeadlines() {
        return wheel.size();
    }

    // ---- members

    public void addMember(LoopMember m) {
        if (memberCount == members.length) {
            members = Arrays.copyOf(members, members.length * 2);
        }
        members[memberCount] = m;
        m.memberIndex(memberCount++);
    }

    public void removeMember(LoopMember m) {
        int i = m.memberIndex();
        if (i < 0) {
            return;
        }
        LoopMember last = members[--memberCount];
        members[i] = last;
        last.memberIndex(i);
        members[memberCount] = null;
        m.memberIndex(-1);
    }

    public int memberCount() {
        return memberCount;
    }

    /** Calls {@code action} for every member that completed its handshake. */
    public void forEachSession(Consumer<Session> action) {
        for (int i = 0; i < memberCount; i++) {
            Session s = members[i].session();
            if (s != null) {
                action.accept(s);
            }
        }
    }

    /** A snapshot of the members, for operations that close connections while iterating. */
    public List<LoopMember> membersSnapshot() {
        return List.of(Arrays.copyOf(members, memberCount));
    }

    // ---- topics

    public void subscribe(String topic, LoopMember m) {
        topics.computeIfAbsent(topic, t -> new ArrayList<>(4)).add(m);
    }

    public void unsubscribe(String topic, LoopMember m) {
        ArrayList<LoopMember> subs = topics.get(topic);
        if (subs != null && subs.remove(m) && subs.isEmpty()) {
            topics.remove(topic);
        }
    }

    /** Subscribers of {@code topic} on this loop; empty list when none. Do not modify. */
    public List<LoopMember> subscribers(String topic) {
        ArrayList<LoopMember> subs = topics.get(topic);
        return subs == null ? List.of() : subs;
    }

    public int topicCount() {
        return topics.size();
    }

    // ---- offline sessions (kept for their retained messages)

    public void addOffline(Session s) {
        if (offline.add(s) && registry != null) {
            registry.offlineChanged(1);
        }
    }

    public void removeOffline(Session s) {
        if (offline.remove(s) && registry != null) {
            registry.offlineChanged(-1);
        }
    }

    public int offlineCount() {
        return offline.size();
    }
}
