package io.switchboard.loop;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.switchboard.clock.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * What any server keeps per event loop, whatever it serves: a coarse clock in seconds, one timing wheel for the
 * deadlines of its connections, and the list of its members (for sweeps, drains and broadcasts). It knows nothing
 * of sessions or protocols: the gateway's session shard and the proxy each build on one.
 *
 * <p>Owned by its event loop: every method but {@link #execute}, {@link #inLoop}, {@link #index} and
 * {@link #eventLoop} runs on that loop's thread; other threads hand work over with {@link #execute}.
 *
 * @param <M> what the members are (a connection of the gateway or a forwarded link of the proxy)
 */
public final class Loop<M extends Loop.Member> {
    /** A member knows its own place in the member list, so that removal is O(1). */
    public interface Member {
        /** Place in the loop's member list, or -1 when not a member. */
        int memberIndex();

        void memberIndex(int index);
    }

    /** Something with a deadline on the loop's wheel. */
    public interface Timed extends DeadlineWheel.Entry {
        /** Called on the loop when the deadline has passed; the entry is no longer scheduled. */
        void onDeadline(long nowSec);
    }

    /** Wheel span in seconds; longer deadlines go round again. */
    static final int WHEEL_SLOTS = 1024;
    /** At most this many deadlines fire per tick, so a mass timeout cannot stall the loop. */
    public static final int EXPIRIES_PER_TICK = 20_000;
    /** Member arrays larger than this shrink by half once they are a quarter full. */
    private static final int SHRINK_ABOVE = 1024;

    private final int index;
    private final EventLoop loop;
    private final Clock clock;
    private final DeadlineWheel<Timed> wheel;
    private Member[] members = new Member[64];
    private int memberCount;
    /** Loop time starts at 0: seconds fit an int in per-connection fields for 68 years. */
    private final long baseSec;
    private long nowSec;

    public Loop(int index, EventLoop loop, Clock clock) {
        this.index = index;
        this.loop = loop;
        this.clock = clock;
        this.baseSec = clock.monotonicNs() / 1_000_000_000L;
        this.wheel = new DeadlineWheel<>(WHEEL_SLOTS, 0);
    }

    public int index() {
        return index;
    }

    public EventLoop eventLoop() {
        return loop;
    }

    public boolean inLoop() {
        return loop.inEventLoop();
    }

    /**
     * True on this loop's own thread when no task waits in its queue: work handed to this loop may then run at once
     * without overtaking anything handed over before it.
     */
    public boolean inLoopWithNothingQueued() {
        return loop.inEventLoop() && loop instanceof SingleThreadEventExecutor e && e.pendingTasks() == 0;
    }

    /** Runs {@code task} on this loop (from any thread). */
    public void execute(Runnable task) {
        loop.execute(task);
    }

    /**
     * Seconds since this loop started, refreshed once a tick: cheap to read on every frame. Deadlines on the wheel
     * are in this time base; it never jumps with the wall clock.
     */
    public long nowSec() {
        return nowSec;
    }

    /** Wall-clock time (message expiry, timestamps). */
    public long nowMs() {
        return clock.nowMs();
    }

    /** Advances the loop's time and fires the deadlines that have passed (at most {@link #EXPIRIES_PER_TICK}). */
    public void tick() {
        nowSec = clock.monotonicNs() / 1_000_000_000L - baseSec;
        wheel.poll(nowSec, Timed::onDeadline, EXPIRIES_PER_TICK);
    }

    // ---- deadlines

    public void schedule(Timed t, long deadlineSec) {
        wheel.schedule(t, deadlineSec);
    }

    public void cancelDeadline(Timed t) {
        wheel.cancel(t);
    }

    public int scheduledDeadlines() {
        return wheel.size();
    }

    // ---- members

    public void addMember(M m) {
        if (memberCount == members.length) {
            members = Arrays.copyOf(members, members.length * 2);
        }
        members[memberCount] = m;
        m.memberIndex(memberCount++);
    }

    /** Removes {@code m} (no-op when it is not a member): the last member takes its place. */
    public void removeMember(M m) {
        int i = m.memberIndex();
        if (i < 0) {
            return;
        }
        Member last = members[--memberCount];
        members[i] = last;
        last.memberIndex(i);
        members[memberCount] = null;
        m.memberIndex(-1);
        if (members.length > SHRINK_ABOVE && memberCount < members.length / 4) {
            members = Arrays.copyOf(members, members.length / 2);
        }
    }

    public int memberCount() {
        return memberCount;
    }

    /** The member at {@code i} (0 to {@link #memberCount()} - 1); the order changes as members leave. */
    @SuppressWarnings("unchecked")
    public M member(int i) {
        return (M) members[i];
    }

    /** Calls {@code action} for every member; {@code action} must not add or remove members. */
    public void forEachMember(Consumer<? super M> action) {
        for (int i = 0; i < memberCount; i++) {
            action.accept(member(i));
        }
    }

    /** A copy of the member list, for operations that close members while iterating. */
    @SuppressWarnings("unchecked")
    public List<M> membersSnapshot() {
        return (List<M>) List.of(Arrays.copyOf(members, memberCount));
    }
}
