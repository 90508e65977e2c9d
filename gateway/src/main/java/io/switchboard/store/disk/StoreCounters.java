package io.switchboard.store.disk;

import io.switchboard.service.StoreStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The disk store's readings: written by the writer thread (and {@code accountedBytes} by appenders), read by the
 * stats endpoints on any thread.
 */
final class StoreCounters {
    /** Bytes of live records plus appends on their way to the writer: what --max-store-bytes bounds. */
    final AtomicLong accountedBytes = new AtomicLong();
    final AtomicLong liveRecords = new AtomicLong();
    final AtomicLong diskBytes = new AtomicLong();
    volatile int segments;
    final LongAdder failures = new LongAdder();
    private final AtomicLong fsyncs = new AtomicLong();
    private final AtomicLong fsyncNanos = new AtomicLong();
    /** Non-cumulative counts per bucket; the last is over every bound. */
    private final AtomicLongArray fsyncBuckets = new AtomicLongArray(StoreStats.FSYNC_BUCKET_SECONDS.size() + 1);
    volatile long recoveryMs;
    volatile long recoveredMessages;
    volatile long recoveredClients;

    void fsynced(long nanos) {
        fsyncs.incrementAndGet();
        fsyncNanos.addAndGet(nanos);
        double seconds = nanos / 1e9;
        List<Double> bounds = StoreStats.FSYNC_BUCKET_SECONDS;
        int i = 0;
        while (i < bounds.size() && seconds > bounds.get(i)) {
            i++;
        }
        fsyncBuckets.incrementAndGet(i);
    }

    StoreStats snapshot(long maxBytes) {
        List<Long> cumulative = new ArrayList<>(fsyncBuckets.length());
        long sum = 0;
        for (int i = 0; i < fsyncBuckets.length(); i++) {
            sum += fsyncBuckets.get(i);
            cumulative.add(sum);
        }
        return new StoreStats("disk", accountedBytes.get(), maxBytes, diskBytes.get(), liveRecords.get(), segments,
                fsyncs.get(), cumulative, fsyncNanos.get() / 1e9, failures.sum(), recoveryMs, recoveredMessages,
                recoveredClients);
    }
}
