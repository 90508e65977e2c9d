package io.switchboard.service;

import java.util.List;

/**
 * The core's state for the stats endpoints, beyond the counters of {@link io.switchboard.metrics.GatewayMetrics}.
 * Immutable.
 *
 * @param uptimeMs                milliseconds since the gateway started, by its clock
 * @param maxConnections          configured maximum of client connections
 * @param sessionsKnown           sessions held, online or offline with retained messages
 * @param sessionsOfflineRetained sessions kept offline for their retained messages (an estimate)
 * @param loopConnections         connections per event loop, by loop index
 */
public record CoreStats(long uptimeMs, int maxConnections, int sessionsKnown, long sessionsOfflineRetained,
                        List<Integer> loopConnections) {
    public CoreStats {
        loopConnections = List.copyOf(loopConnections);
    }
}
