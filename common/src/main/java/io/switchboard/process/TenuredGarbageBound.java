package io.switchboard.process;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the garbage in the old generation bounded, in a process on the Serial collector (the launcher's default).
 * Serial collects its old generation only when it cannot grow it, and it grows it, up to the maximum heap (a quarter
 * of the machine's memory unless {@code -Xmx} says otherwise), rather than collect: the objects of every connection
 * that lived past a young collection stay there after it closes (~2 KB per forwarded connection, measured), so a
 * process whose clients come and go grows its resident memory day after day. Every {@link #CHECK_EVERY_SEC} seconds
 * this looks at the old generation; when it holds more than {@link #due} allows beyond what the last full collection
 * left (at least {@link #MIN_GARBAGE_BYTES}, or as much again), it asks for a full collection ({@code System.gc()}:
 * with Serial a stop-the-world compaction of the live objects) and logs one line with what it took. The pages it
 * frees are reused by what is promoted next, so the resident memory levels off instead of growing (the heap keeps
 * at least its initial size committed). With any other collector it does nothing.
 *
 * <p>One daemon thread for the process's life, asleep between looks; thread-safe.
 */
public final class TenuredGarbageBound {
    private static final Logger log = LoggerFactory.getLogger(TenuredGarbageBound.class);
    /** How often the old generation is looked at. */
    public static final int CHECK_EVERY_SEC = 30;
    /** Garbage allowed in the old generation whatever its live size. */
    public static final long MIN_GARBAGE_BYTES = 64L << 20;

    private final MemoryPoolMXBean tenured;
    private final GarbageCollectorMXBean oldCollector;
    /** Full collections asked for in this process (the old generation is the process's: one count for all). */
    private static final AtomicLong COLLECTIONS = new AtomicLong();
    /** The old generation's use at start: what counts as live until the first full collection. */
    private final long usedAtStart;

    private TenuredGarbageBound(MemoryPoolMXBean tenured, GarbageCollectorMXBean oldCollector) {
        this.tenured = tenured;
        this.oldCollector = oldCollector;
        this.usedAtStart = tenured.getUsage().getUsed();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "swb-tenured-bound");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, CHECK_EVERY_SEC, CHECK_EVERY_SEC, TimeUnit.SECONDS);
    }

    /**
     * Starts looking, for the rest of the process's life, when this JVM runs the Serial collector ({@code what} names
     * the process in the log); nothing with any other collector, or with {@code -Dswitchboard.tenuredBound=false}.
     */
    public static void start(String what) {
        if (!Boolean.parseBoolean(System.getProperty("switchboard.tenuredBound", "true"))) {
            return;
        }
        MemoryPoolMXBean tenured = null;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getName().equals("Tenured Gen")) {
                tenured = p;
            }
        }
        GarbageCollectorMXBean full = null;
        for (GarbageCollectorMXBean c : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (c.getName().equals("MarkSweepCompact")) {
                full = c;
            }
        }
        if (tenured == null || full == null) {
            return;
        }
        log.debug("{}: the old generation is collected when it holds {} MB or as much again as the last full "
                + "collection left", what, MIN_GARBAGE_BYTES >> 20);
        new TenuredGarbageBound(tenured, full);
    }

    /**
     * Whether an old generation holding {@code usedBytes}, of which the last full collection left {@code liveBytes},
     * is due for a collection: more than {@link #MIN_GARBAGE_BYTES}, and more than {@code liveBytes} again, of
     * garbage (so a process with a large live heap is not paused for little).
     */
    static boolean due(long usedBytes, long liveBytes) {
        return usedBytes - liveBytes > Math.max(MIN_GARBAGE_BYTES, liveBytes);
    }

    /** Full collections asked for in this process because the old generation's garbage passed the bound. */
    public static long collections() {
        return COLLECTIONS.get();
    }

    private void check() {
        try {
            java.lang.management.MemoryUsage after = tenured.getCollectionUsage();
            long live = after != null && oldCollector.getCollectionCount() > 0 ? after.getUsed() : usedAtStart;
            long used = tenured.getUsage().getUsed();
            if (!due(used, live)) {
                return;
            }
            long t0 = System.nanoTime();
            System.gc();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            COLLECTIONS.incrementAndGet();
            log.info("heap: the old generation held {} MB, {} MB more than the last full collection left (objects "
                    + "of connections that closed): collected in {} ms, {} MB live", used >> 20, (used - live) >> 20,
                    ms, tenured.getUsage().getUsed() >> 20);
        } catch (RuntimeException e) {
            log.warn("heap: looking at the old generation failed: {}", e.toString());
        }
    }
}
