package io.switchboard.client;

import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task on an event loop after a delay. Production uses the loop's own scheduler; tests inject a manual
 * one so that heartbeats, ACK delays and reconnect backoff are driven explicitly, never by sleeping.
 * Implementations must run every task on the given loop.
 */
interface Scheduler {

    /** A scheduled task that can be cancelled; cancelling a task that already ran does nothing. */
    interface Cancellable {
        void cancel();
    }

    Cancellable schedule(EventLoop loop, Runnable task, long delayMs);

    /** Netty's scheduled tasks on the loop itself. */
    Scheduler NETTY = (loop, task, delayMs) -> {
        io.netty.util.concurrent.ScheduledFuture<?> future = loop.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        return () -> future.cancel(false);
    };
}
