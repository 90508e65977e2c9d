package io.switchboard.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.loop.LoopTasks;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class DrainWaiterTest {

    @Test
    void shouldCloseAndCompleteEvenWhenTheWaitFails() throws Exception {
        AtomicBoolean closed = new AtomicBoolean();
        CompletableFuture<Void> drained = new CompletableFuture<>();
        DrainWaiter.start("test-drain", () -> {
            throw new InterruptedException("stopped");
        }, () -> closed.set(true), drained);
        drained.get(5, TimeUnit.SECONDS);
        assertTrue(closed.get());
    }

    @Test
    void shouldCompleteWhenClosingFails() throws Exception {
        CompletableFuture<Void> drained = new CompletableFuture<>();
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> { }); // the close's failure goes to the thread's handler
        try {
            DrainWaiter.start("test-drain", () -> { }, () -> {
                throw new IllegalStateException("the store could not close");
            }, drained);
            drained.get(5, TimeUnit.SECONDS); // else the server command waits for it for ever
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }

    @Test
    void shouldStopPollingAtTheDeadline() throws Exception {
        assertTrue(DrainWaiter.pollUntil(() -> true, 0, 1));
        assertFalse(DrainWaiter.pollUntil(() -> false, TimeUnit.MILLISECONDS.toNanos(5), 1));
    }

    @Test
    void shouldCountAFailedLoopTaskAndGoOn() {
        LongAdder errors = new LongAdder();
        LoopTasks.survive(() -> {
            throw new IllegalStateException("boom");
        }, errors, LoggerFactory.getLogger(DrainWaiterTest.class), "tick", 0);
        LoopTasks.survive(() -> { }, errors, LoggerFactory.getLogger(DrainWaiterTest.class), "tick", 0);
        assertEquals(1, errors.sum());
        // An Error too: a periodic task that throws one is never run again by Netty (a loop without deadlines).
        LoopTasks.survive(() -> {
            throw new AssertionError("a bug in a deadline");
        }, errors, LoggerFactory.getLogger(DrainWaiterTest.class), "tick", 0);
        assertEquals(2, errors.sum());
    }
}
