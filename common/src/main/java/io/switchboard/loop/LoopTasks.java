package io.switchboard.loop;

import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/** How an event loop runs its own periodic work (server and proxy). Stateless. */
public final class LoopTasks {
    private LoopTasks() {}

    /**
     * Runs {@code task} so that the loop survives its failure: a {@link RuntimeException} is counted in
     * {@code errors} and logged in one line, "{@code what} failed on loop {@code loopIndex}: cause".
     */
    public static void survive(Runnable task, LongAdder errors, Logger log, String what, int loopIndex) {
        try {
            task.run();
        } catch (RuntimeException e) {
            errors.increment();
            log.warn("{} failed on loop {}: {}", what, loopIndex, e.toString());
        }
    }
}
