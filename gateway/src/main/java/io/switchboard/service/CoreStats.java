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
 * @param queuedBytes             payload bytes queued for all clients, online and offline
 * @param maxQueuedTotalBytes     the budget for {@code queuedBytes} ({@code --max-queued-total})
 * @param store                   what the message store holds and how it performs
 * @param cluster                 in a cluster, what it looks like from this node (JSON-ready); else null
 * @param upstream                what the upstream sink counts ({@code UpstreamSink#stats}); empty without one
 */
public record CoreStats(long uptimeMs, int maxConnections, int sessionsKnown, long sessionsOfflineRetained,
                        List<Integer> loopConnections, long queuedBytes, long maxQueuedTotalBytes,
                        io.switchboard.service.StoreStats store, java.util.Map<String, Object> cluster,
                        java.util.Map<String, Long> upstream) {
    public CoreStats {
        loopConnections = List.copyOf(loopConnections);
        upstream = upstream == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(
                new java.util.LinkedHashMap<>(upstream));
    }

    /** Without an upstream sink. */
    public CoreStats(long uptimeMs, int maxConnections, int sessionsKnown, long sessionsOfflineRetained,
                     List<Integer> loopConnections, long queuedBytes, long maxQueuedTotalBytes,
                     io.switchboard.service.StoreStats store, java.util.Map<String, Object> cluster) {
        this(uptimeMs, maxConnections, sessionsKnown, sessionsOfflineRetained, loopConnections, queuedBytes,
                maxQueuedTotalBytes, store, cluster, null);
    }

    /** Outside a cluster. */
    public CoreStats(long uptimeMs, int maxConnections, int sessionsKnown, long sessionsOfflineRetained,
                     List<Integer> loopConnections, long queuedBytes, long maxQueuedTotalBytes,
                     io.switchboard.service.StoreStats store) {
        this(uptimeMs, maxConnections, sessionsKnown, sessionsOfflineRetained, loopConnections, queuedBytes,
                maxQueuedTotalBytes, store, null);
    }

    /** Without the queued-bytes readings (0 of an unlimited budget) and with a memory store. */
    public CoreStats(long uptimeMs, int maxConnections, int sessionsKnown, long sessionsOfflineRetained,
                     List<Integer> loopConnections) {
        this(uptimeMs, maxConnections, sessionsKnown, sessionsOfflineRetained, loopConnections, 0, Long.MAX_VALUE,
                io.switchboard.service.StoreStats.memory());
    }
}
