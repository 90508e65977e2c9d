package io.switchboard.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a bench run counts and measures. Counters are updated from the client event loops (or, in a --workers
 * parent, by the threads reading the workers' reports) and read by the progress printer; latencies go into
 * HdrHistogram recorders (multi-writer, read by interval). Thread-safe.
 */
final class BenchStats {
    final LongAdder attempted = new LongAdder();
    final LongAdder established = new LongAdder();
    final LongAdder open = new LongAdder();
    final LongAdder messages = new LongAdder();
    final LongAdder pings = new LongAdder();
    final LongAdder pushesSent = new LongAdder();
    final LongAdder pushesFailed = new LongAdder();
    /** Pushes sent after the warm-up: each should be measured (received) or failed. */
    final LongAdder pushesSentMeasured = new LongAdder();
    final LongAdder broadcastReceived = new LongAdder();
    /** Connections a --storm closed on purpose (each is expected back). */
    final LongAdder stormDropped = new LongAdder();
    /** System.nanoTime() of the latest WELCOME: the handshake rate runs from the first connect to it. */
    final java.util.concurrent.atomic.AtomicLong lastWelcomeNs = new java.util.concurrent.atomic.AtomicLong();
    private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();

    /** Connect to WELCOME, in microseconds. */
    final Recorder handshakeUs = new Recorder(3);
    /** Intended push time to arrival at the client, in microseconds (no coordinated omission). */
    final Recorder pushUs = new Recorder(3);
    /** Broadcast request time to arrival at each client, in microseconds. */
    final Recorder broadcastUs = new Recorder(3);

    /** Storm start to each connection's return (its handshake), in microseconds. */
    final Recorder stormBackUs = new Recorder(3);

    final Histogram handshakeTotal = new Histogram(3);
    final Histogram pushTotal = new Histogram(3);
    final Histogram broadcastTotal = new Histogram(3);
    final Histogram stormBackTotal = new Histogram(3);

    /** Interval histograms merged in from worker processes, waiting for the next drain (guarded by this). */
    private final Intervals merged = new Intervals(new Histogram(3), new Histogram(3), new Histogram(3),
            new Histogram(3));

    /** One interval of each latency: what a drain moved into the totals (and what a worker reports). */
    record Intervals(Histogram handshake, Histogram push, Histogram broadcast, Histogram stormBack) {
    }

    void error(String kind) {
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    /** Adds {@code n} errors of one kind (a worker's count since its last report). */
    void error(String kind, long n) {
        if (n != 0) {
            errors.computeIfAbsent(kind, k -> new LongAdder()).add(n);
        }
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

    static void recordSafely(Recorder r, long valueUs, long count) {
        r.recordValueWithCount(Math.max(0, Math.min(valueUs, 3_600_000_000L)), count);
    }

    /** Moves what the recorders hold into the run totals; returns the push interval histogram for progress. */
    Histogram drainIntervals() {
        return drainAll().push();
    }

    /**
     * Moves what the recorders and the merged worker intervals hold into the run totals; returns that interval
     * (fresh histograms, owned by the caller).
     */
    synchronized Intervals drainAll() {
        return new Intervals(drain(handshakeUs, merged.handshake(), handshakeTotal),
                drain(pushUs, merged.push(), pushTotal), drain(broadcastUs, merged.broadcast(), broadcastTotal),
                drain(stormBackUs, merged.stormBack(), stormBackTotal));
    }

    private static Histogram drain(Recorder r, Histogram pending, Histogram total) {
        Histogram h = r.getIntervalHistogram();
        h.add(pending);
        pending.reset();
        total.add(h);
        return h;
    }

    /** Adds a worker's interval histograms; they reach the totals (and progress) at the next drain. */
    synchronized void addIntervals(Intervals worker) {
        merged.handshake().add(worker.handshake());
        merged.push().add(worker.push());
        merged.broadcast().add(worker.broadcast());
        merged.stormBack().add(worker.stormBack());
    }
}
