package io.switchboard.loop;

import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/** How an event loop runs its own periodic work (server and proxy). Stateless. */
public final class LoopTasks {
    private LoopTasks() {}

    /**
     * Runs {@code task} so that the loop survives its failure: a {@link RuntimeException} is counted in
     * {@code errors} and logged in one line, "{@code what} failed on loop {@code loopIndex}: cause"; an
     * {@link Error} too (with its stack: it is a bug or the machine's trouble), for a periodic task that throws
     * anything is never run again by Netty: one {@code AssertionError} or {@code OutOfDirectMemoryError} in a tick
     * stopped every deadline of that loop for good (a JVM out of heap exits before, by the launcher's
     * -XX:+ExitOnOutOfMemoryError).
     */
    public static void survive(Runnable task, LongAdder errors, Logger log, String what, int loopIndex) {
        try {
            task.run();
        } catch (RuntimeException e) {
            errors.increment();
            log.warn("{} failed on loop {}: {}", what, loopIndex, e.toString());
        } catch (Error e) {
            errors.increment();
            log.error("{} failed on loop {}", what, loopIndex, e);
        }
    }
}
