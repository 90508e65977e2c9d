package io.switchboard.service;

import java.util.List;

/**
 * What a message store reports for {@code /v1/stats} and {@code /metrics}. Immutable.
 *
 * @param kind              {@code memory} or {@code disk}
 * @param liveBytes         bytes of the records still kept (unacknowledged, unexpired), framing included
 * @param maxBytes          the bound on {@code liveBytes} ({@code --max-store-bytes}); pushes beyond get 507
 * @param diskBytes         bytes of the files on disk (live and not yet compacted)
 * @param liveRecords       messages kept
 * @param segments          segment files
 * @param fsyncs            fsyncs done since start
 * @param fsyncBuckets      fsyncs by latency: count at or under each bound of {@link #FSYNC_BUCKET_SECONDS}, cumulative
 *                          (Prometheus style), the last one counting all
 * @param fsyncSecondsTotal time spent in fsync
 * @param failures          appends that could not be kept (answered 503), writes that failed, and compaction's
 *                          failed tries (a segment it could not read or delete; tried again every minute)
 * @param recoveryMs        how long recovery at start took
 * @param recoveredMessages messages recovered at start
 * @param recoveredClients  clients recovered at start
 */
public record StoreStats(String kind, long liveBytes, long maxBytes, long diskBytes, long liveRecords, int segments,
                         long fsyncs, List<Long> fsyncBuckets, double fsyncSecondsTotal, long failures,
                         long recoveryMs, long recoveredMessages, long recoveredClients) {
    /** Upper bounds of the fsync latency buckets, seconds; a last bucket (+Inf) counts every fsync. */
    public static final List<Double> FSYNC_BUCKET_SECONDS =
            List.of(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0);

    public StoreStats {
        fsyncBuckets = List.copyOf(fsyncBuckets);
    }

    /** A store that keeps nothing on disk. */
    public static StoreStats memory() {
        return new StoreStats("memory", 0, Long.MAX_VALUE, 0, 0, 0, 0,
                java.util.Collections.nCopies(FSYNC_BUCKET_SECONDS.size() + 1, 0L), 0, 0, 0, 0, 0);
    }
}
