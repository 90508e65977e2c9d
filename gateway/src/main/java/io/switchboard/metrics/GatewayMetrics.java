package io.switchboard.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
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
    /** API connections closed after {@code --api-idle-timeout} with no request. */
    public final LongAdder apiIdleClosed = new LongAdder();
    private final EnumMap<Refusal, LongAdder> refusals = new EnumMap<>(Refusal.class);
    /** The refusals of client connections again, by the protocol they spoke (swb, mqtt, ws, swb-ws, mqtt-ws). */
    private final ConcurrentHashMap<String, EnumMap<Refusal, LongAdder>> byProtocol = new ConcurrentHashMap<>();

    public GatewayMetrics() {
        for (Refusal r : Refusal.values()) {
            refusals.put(r, new LongAdder());
        }
    }

    public void refused(Refusal reason) {
        refusals.get(reason).increment();
    }

    /** A refusal of a client connection speaking {@code protocol}: counted by reason and by protocol. */
    public void refused(Refusal reason, String protocol) {
        refusals.get(reason).increment();
        byProtocol.computeIfAbsent(protocol, p -> {
            EnumMap<Refusal, LongAdder> m = new EnumMap<>(Refusal.class);
            for (Refusal r : Refusal.values()) {
                m.put(r, new LongAdder());
            }
            return m;
        }).get(reason).increment();
    }

    /** Refusals of connections speaking {@code protocol} for {@code reason}. */
    public long refusals(Refusal reason, String protocol) {
        EnumMap<Refusal, LongAdder> m = byProtocol.get(protocol);
        return m == null ? 0 : m.get(reason).sum();
    }

    /** Refusals of client connections by protocol (sorted) and reason, only those that happened. */
    public Map<String, Map<Refusal, Long>> refusalsByProtocol() {
        Map<String, Map<Refusal, Long>> all = new TreeMap<>();
        byProtocol.forEach((protocol, counters) -> counters.forEach((reason, n) -> {
            long sum = n.sum();
            if (sum > 0) {
                all.computeIfAbsent(protocol, p -> new EnumMap<>(Refusal.class)).put(reason, sum);
            }
        }));
        return all;
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
