package io.switchboard.bench;

import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Follows the return of the connections a {@code --storm} dropped: each poll records, for every connection that
 * completed its handshake since the last poll, the time since the drop into {@link BenchStats#stormBackUs}. The
 * handshake counter is protocol-independent, so this works for whatever handler the clients run. Used by one
 * thread.
 */
final class StormTracker {
    private final BenchStats stats;
    private final LongSupplier established;
    private final long dropped;
    private final long establishedAtDrop;
    private final long dropNs;
    private long recorded;

    /**
     * @param established the handshake counter (cumulative)
     * @param establishedAtDrop its value just before the drop
     */
    StormTracker(BenchStats stats, LongSupplier established, long dropped, long establishedAtDrop, long dropNs) {
        this.stats = stats;
        this.established = established;
        this.dropped = dropped;
        this.establishedAtDrop = establishedAtDrop;
        this.dropNs = dropNs;
    }

    void poll(long nowNs) {
        long back = Math.min(dropped, established.getAsLong() - establishedAtDrop);
        if (back > recorded) {
            BenchStats.recordSafely(stats.stormBackUs, (nowNs - dropNs) / 1000, back - recorded);
            recorded = back;
        }
    }

    boolean allBack() {
        return recorded >= dropped;
    }

    long back() {
        return recorded;
    }

    /**
     * The time by which {@code fraction} of {@code dropped} connections were back, from the histogram of return
     * times; -1 when fewer than that came back.
     */
    static long timeToFractionUs(Histogram back, long dropped, double fraction) {
        long need = (long) Math.ceil(dropped * fraction);
        if (dropped <= 0 || back.getTotalCount() < need) {
            return -1;
        }
        long seen = 0;
        for (HistogramIterationValue v : back.recordedValues()) {
            seen += v.getCountAtValueIteratedTo();
            if (seen >= need) {
                return back.highestEquivalentValue(v.getValueIteratedTo());
            }
        }
        return -1;
    }
}
