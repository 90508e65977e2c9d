package io.switchboard.cluster.redis;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One push at a time per client among those this node sends elsewhere: each starts once every push to the same
 * client that came before it here was answered. A push's way is not one request (a script, then the owner it names,
 * who may answer "not here", then the script again, which may keep it for an offline client), so two in flight at
 * once could take their seqs in the other order: a later push kept for an offline client while an earlier one was
 * still on its way to a node that no longer held the client (found by {@code NoLossUnderFaultsTest}). Pushes to
 * different clients go on side by side.
 *
 * <p>Thread-safe. Bounded by the pushes in progress (each waiting one is a request its connection holds); every
 * push's answer must come, once ({@link #finished} after a second answer does nothing).
 */
final class ClientTurns {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClientTurns.class);
    /** Per client with a push in progress: the pushes waiting behind it, in order. */
    private final ConcurrentHashMap<String, Line> waiting = new ConcurrentHashMap<>();

    /** One client's pushes waiting their turn, and when one of them last found the cluster failing. */
    private static final class Line {
        final ArrayDeque<Runnable> queue = new ArrayDeque<>(1);
        /** {@link System#nanoTime} of the last push of this line answered 503 ({@link #failed}), once one was. */
        volatile long failedAtNs;
        volatile boolean failed;
    }

    /**
     * True, and {@code clientId}'s turn is taken, when no push to it is in progress; the caller then calls
     * {@link #finished} once that push was answered.
     */
    boolean tryStart(String clientId) {
        boolean[] started = {false};
        waiting.computeIfAbsent(clientId, k -> {
            started[0] = true;
            return new Line();
        });
        return started[0];
    }

    /**
     * Runs {@code push} now if no push to {@code clientId} is in progress, else once those before it were answered;
     * {@code push} gets what to call once it was answered (the next one starts then).
     */
    void inTurn(String clientId, java.util.function.Consumer<Runnable> push) {
        Runnable start = () -> push.accept(finisher(clientId));
        boolean[] now = {false};
        waiting.compute(clientId, (k, line) -> {
            if (line == null) {
                now[0] = true;
                return new Line();
            }
            line.queue.add(start);
            return line;
        });
        if (now[0]) {
            start.run();
        }
    }

    /** Calls {@link #finished} for {@code clientId} the first time it runs. */
    Runnable finisher(String clientId) {
        AtomicBoolean once = new AtomicBoolean();
        return () -> {
            if (once.compareAndSet(false, true)) {
                finished(clientId);
            }
        };
    }

    /**
     * The push in progress to {@code clientId} was answered: the next one waiting starts, on this thread (after the
     * caller's own {@code finished} call returned, when it is one: a chain of pushes answered at once, such as
     * refusals while Redis is down, runs in a loop, not ever deeper on the stack).
     */
    void finished(String clientId) {
        Runnable[] next = {null};
        waiting.computeIfPresent(clientId, (k, line) -> {
            next[0] = line.queue.poll();
            return next[0] == null ? null : line;
        });
        if (next[0] != null) {
            runFlat(next[0]);
        }
    }

    /**
     * The push in progress to {@code clientId} was answered 503 (Redis or its owner node did not answer, in time or
     * at all): those that came before this moment and wait their turn are answered 503 at once ({@link
     * #failedSince}) instead of each waiting its own timeout behind it (a silent Redis made the k-th of a client's
     * pushes wait k timeouts). Call before {@link #finished}.
     */
    void failed(String clientId) {
        Line line = waiting.get(clientId);
        if (line != null) {
            line.failedAtNs = System.nanoTime();
            line.failed = true;
        }
    }

    /** True when a push to {@code clientId} answered 503 after {@code sinceNs} ({@link System#nanoTime}). */
    boolean failedSince(String clientId, long sinceNs) {
        Line line = waiting.get(clientId);
        return line != null && line.failed && line.failedAtNs - sinceNs >= 0;
    }

    /** Pushes started by {@link #finished} on this thread while it runs one already; null when it runs none. */
    private static final ThreadLocal<ArrayDeque<Runnable>> STARTING = new ThreadLocal<>();

    /**
     * Runs {@code start} now, or, when called from within such a run on this thread, once that run's step returned:
     * a chain of steps that each start the next at once stays flat on the stack.
     */
    static void runFlat(Runnable start) {
        ArrayDeque<Runnable> pending = STARTING.get();
        if (pending != null) {
            pending.add(start);
            return;
        }
        pending = new ArrayDeque<>();
        STARTING.set(pending);
        try {
            for (Runnable r = start; r != null; r = pending.poll()) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    log.error("cluster: starting a push in its client's turn failed", e);
                }
            }
        } finally {
            STARTING.remove();
        }
    }

    /** Clients with a push in progress (for tests). */
    int clientsInProgress() {
        return waiting.size();
    }
}
