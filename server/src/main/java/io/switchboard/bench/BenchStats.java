package io.switchboard.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a bench run counts and measures. Counters are updated from the client event loops and read by the progress
 * printer; latencies go into HdrHistogram recorders (multi-writer, read by interval). Thread-safe.
 */
final class BenchStats {
    final LongAdder attempted = new LongAdder();
    final LongAdder established = new LongAdder();
    final LongAdder open = new LongAdder();
    final LongAdder messages = new LongAdder();
    final LongAdder pings = new LongAdder();
    final LongAdder pushesSent = new LongAdder();
    final LongAdder pushesFailed = new LongAdder();
    final LongAdder broadcastReceived = new LongAdder();
    /** System.nanoTime() of the latest WELCOME: the handshake rate runs from the first connect to it. */
    final java.util.concurrent.atomic.AtomicLong lastWelcomeNs = new java.util.concurrent.atomic.AtomicLong();
    private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();

    /** Connect to WELCOME, in microseconds. */
    final Recorder handshakeUs = new Recorder(3);
    /** Intended push time to arrival at the client, in microseconds (no coordinated omission). */
    final Recorder pushUs = new Recorder(3);
    /** Broadcast request time to arrival at each client, in microseconds. */
    final Recorder broadcastUs = new Recorder(3);

    final Histogram handshakeTotal = new Histogram(3);
    final Histogram pushTotal = new Histogram(3);
    final Histogram broadcastTotal = new Histogram(3);

    void error(String kind) {
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    Map<String, Long> errors() {
        Map<String, Long> m = new TreeMap<>();
        errors.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    long errorCount() {
        long n = 0;
        for (LongAdder a : errors.values()) {
            n += a.sum();
        }
        return n;
    }

    static void recordSafely(Recorder r, long valueUs) {
        r.recordValue(Math.max(0, Math.min(valueUs, 3_600_000_000L)));
    }

    /** Moves what the recorders hold into the run totals; returns the push interval histogram for progress. */
    synchronized Histogram drainIntervals() {
        handshakeTotal.add(handshakeUs.getIntervalHistogram());
        broadcastTotal.add(broadcastUs.getIntervalHistogram());
        Histogram push = pushUs.getIntervalHistogram();
        pushTotal.add(push);
        return push;
    }
}
