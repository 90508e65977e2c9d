package io.switchboard.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The gateway's counters and gauges. Updated from any thread (event loops, API) without locks;
 * read by the stats and metrics endpoints.
 */
public final class GatewayMetrics {
    public final LongAdder connectionsAccepted = new LongAdder();
    public final AtomicLong connectionsOpen = new AtomicLong();
    public final LongAdder handshakes = new LongAdder();
    public final AtomicLong sessionsOnline = new AtomicLong();
    public final LongAdder pushesAccepted = new LongAdder();
    public final LongAdder messagesWritten = new LongAdder();
    public final LongAdder messagesAcked = new LongAdder();
    public final LongAdder messagesExpired = new LongAdder();
    public final LongAdder messagesDropped = new LongAdder();
    public final LongAdder topicDeliveries = new LongAdder();
    public final LongAdder broadcasts = new LongAdder();
    public final LongAdder sendsReceived = new LongAdder();
    public final LongAdder sendsAccepted = new LongAdder();
    public final LongAdder takeovers = new LongAdder();
    public final LongAdder loopErrors = new LongAdder();
    public final LongAdder apiRequests = new LongAdder();
    private final EnumMap<Refusal, LongAdder> refusals = new EnumMap<>(Refusal.class);

    public GatewayMetrics() {
        for (Refusal r : Refusal.values()) {
            refusals.put(r, new LongAdder());
        }
    }

    public void refused(Refusal reason) {
        refusals.get(reason).increment();
    }

    public long refusals(Refusal reason) {
        return refusals.get(reason).sum();
    }

    /** A snapshot of refusals by reason, in declaration order. */
    public Map<Refusal, Long> refusalSnapshot() {
        EnumMap<Refusal, Long> m = new EnumMap<>(Refusal.class);
        refusals.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }
}
