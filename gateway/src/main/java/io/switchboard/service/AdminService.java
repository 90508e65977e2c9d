package io.switchboard.service;

import java.util.concurrent.CompletableFuture;

/**
 * What the backend API needs of the gateway itself: draining, its state, and the readings behind
 * {@code /v1/stats} and {@code /metrics} that only the core knows (counters come from
 * {@link io.switchboard.metrics.GatewayMetrics}).
 *
 * <p>Thread-safe: call from any thread.
 */
public interface AdminService {
    /**
     * Stops accepting clients and sends them away over the drain period, then stops the server. Idempotent; the
     * future completes once the server stopped.
     */
    CompletableFuture<Void> drain();

    /** True from the first {@link #drain()} on. */
    boolean draining();

    /** Seconds over which a drain sends clients away. */
    int drainPeriodSec();

    /** Why the server cannot do its work any more (a part of it failed for good), or null; {@code /healthz} says it. */
    default String failing() {
        return null;
    }

    /** A snapshot of the core's state; values owned by event loops are read racily (estimates). */
    CoreStats stats();
}
