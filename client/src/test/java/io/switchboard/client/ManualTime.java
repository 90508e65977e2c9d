package io.switchboard.client;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Test clock and scheduler: time moves only in {@link #advanceMs}, which runs the tasks falling due, in due
 * order, each on its event loop, waiting (bounded) for each. Thread-safe.
 */
final class ManualTime implements Scheduler, LongSupplier {
    private static final int MAX_TASKS_PER_ADVANCE = 10_000;

    private final AtomicLong nowNs = new AtomicLong(TimeUnit.HOURS.toNanos(1));
    private final List<Task> tasks = new ArrayList<>();
    private long order;

    private static final class Task {
        final long dueNs;
        final long order;
        final EventLoop loop;
        final Runnable runnable;
        volatile boolean cancelled;

        Task(long dueNs, long order, EventLoop loop, Runnable runnable) {
            this.dueNs = dueNs;
            this.order = order;
            this.loop = loop;
            this.runnable = runnable;
        }
    }

    @Override
    public long getAsLong() {
        return nowNs.get();
    }

    @Override
    public synchronized Cancellable schedule(EventLoop loop, Runnable runnable, long delayMs) {
        Task task = new Task(nowNs.get() + TimeUnit.MILLISECONDS.toNanos(delayMs), order++, loop, runnable);
        tasks.add(task);
        return () -> task.cancelled = true;
    }

    /** Moves time forward by {@code ms}, running every task due by then on its loop. */
    void advanceMs(long ms) throws Exception {
        long targetNs = nowNs.get() + TimeUnit.MILLISECONDS.toNanos(ms);
        for (int i = 0; i < MAX_TASKS_PER_ADVANCE; i++) {
            Task next = takeDue(targetNs);
            if (next == null) {
                nowNs.set(targetNs);
                return;
            }
            nowNs.set(Math.max(nowNs.get(), next.dueNs));
            next.loop.submit(next.runnable).get(5, TimeUnit.SECONDS);
        }
        throw new AssertionError("more than " + MAX_TASKS_PER_ADVANCE + " tasks in one advance: a timer loop?");
    }

    /** Delays in ms from now of the tasks still pending (not cancelled), earliest first. */
    synchronized List<Long> pendingDelaysMs() {
        long now = nowNs.get();
        return tasks.stream().filter(t -> !t.cancelled)
                .sorted((a, b) -> a.dueNs != b.dueNs ? Long.compare(a.dueNs, b.dueNs) : Long.compare(a.order, b.order))
                .map(t -> TimeUnit.NANOSECONDS.toMillis(t.dueNs - now)).toList();
    }

    private synchronized Task takeDue(long targetNs) {
        tasks.removeIf(t -> t.cancelled);
        Task best = null;
        for (Task t : tasks) {
            if (t.dueNs - targetNs <= 0 && (best == null || t.dueNs < best.dueNs
                    || (t.dueNs == best.dueNs && t.order < best.order))) {
                best = t;
            }
        }
        if (best != null) {
            tasks.remove(best);
        }
        return best;
    }
}
