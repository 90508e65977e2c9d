package io.switchboard.process;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The thread that waits for a drain to end (server, proxy): it runs the wait, then, however the wait ended, stops
 * the process's server and completes its {@code drained} future. Stateless.
 */
public final class DrainWaiter {
    private DrainWaiter() {}

    /** A wait that may be interrupted. */
    @FunctionalInterface
    public interface Wait {
        void run() throws InterruptedException;
    }

    /** Starts a daemon thread {@code name} that runs {@code wait}, then {@code close}, then completes {@code drained}. */
    public static void start(String name, Wait wait, Runnable close, CompletableFuture<Void> drained) {
        Thread waiter = new Thread(() -> {
            try {
                wait.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                try {
                    close.run();
                } finally {
                    drained.complete(null); // also when closing failed: the process must not wait for ever
                }
            }
        }, name);
        waiter.setDaemon(true);
        waiter.start();
    }

    /**
     * Polls {@code done} every {@code pollMs} until it holds or {@code timeoutNs} passed (a bounded wait for
     * connections that end on their own meanwhile); returns whether it holds.
     */
    public static boolean pollUntil(BooleanSupplier done, long timeoutNs, long pollMs) throws InterruptedException {
        long deadlineNs = System.nanoTime() + timeoutNs;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadlineNs >= 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(pollMs);
        }
        return true;
    }
}
