package io.switchboard.store.disk;

import io.switchboard.clock.Clock;
import io.switchboard.store.MessageStore;
import io.switchboard.service.StoreStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded on-disk store: an append-only log of segment files under one data directory, written by one thread
 * ({@link StoreWriter}) with group commit, read back at start ({@link Recovery}), compacted as records die. What a
 * 200 promises depends on {@link Fsync}. Appends, acknowledgements and forgets from the event loops go through one
 * bounded queue, so they reach the log in the order they were made. Thread-safe.
 */
public final class DiskStore implements MessageStore {
    private static final Logger log = LoggerFactory.getLogger(DiskStore.class);
    /** Operations waiting for the writer, at most; an append beyond is answered 503 at once. */
    static final int QUEUE_CAPACITY = 1 << 20;
    /**
     * An append is refused at once while the oldest operation waiting for the writer has waited this long: half the
     * 10 s a stored push waits for its answer. Without it a disk that stalls (or cannot keep up with fsync always)
     * took a million operations and their payloads onto the heap, and every push waited 10 s for a 503.
     */
    static final long MAX_BACKLOG_NS = 5_000_000_000L;
    /**
     * An append that waited this long for the writer is answered with a failure instead of written: its push waits 10 s
     * for the answer (Deliveries.STORE_APPEND_TIMEOUT_MS) and is answered 503 then, so writing it later would keep
     * (and deliver after a restart) a message its backend was told failed and sends again: a stored duplicate, and
     * under overload the disk's few fsyncs spent on pushes already refused. 2 s before that timeout: the write and
     * its fsync must fit in them (a disk slower than that can still keep one answered 503).
     */
    static final long GIVE_UP_NS = 8_000_000_000L;
    /** Free space below which a failure to start a segment is taken for a full disk. */
    private static final long LOW_SPACE_BYTES = 1 << 20;
    /** A stored message's bytes on disk beyond its payload and id, for {@link #full}. */
    private static final int RECORD_OVERHEAD = Records.messageBytes(0, 0);

    /** When a stored push's bytes are synced to disk, and so what its 200 promises. */
    public enum Fsync {
        /** One fsync per message before its 200: survives a power loss; the slowest. */
        ALWAYS,
        /** One fsync for every push that arrived while the previous one ran, before their 200s: survives a power loss. */
        BATCH,
        /** Written to the kernel before the 200, synced every interval: survives a crash of the process, not of the machine. */
        INTERVAL;

        public static Fsync parse(String option, String word) {
            try {
                return valueOf(word.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(option + " must be always, batch or interval, not '" + word + "'");
            }
        }

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param dir             where the segment files live (created if missing, locked while open)
     * @param fsync           what a 200 promises
     * @param fsyncIntervalMs how often {@link Fsync#INTERVAL} syncs
     * @param segmentBytes    a segment is sealed and a new one started past this size
     * @param maxBytes        live record bytes kept at most; a stored push beyond is refused with 507
     */
    public record Settings(Path dir, Fsync fsync, long fsyncIntervalMs, long segmentBytes, long maxBytes) {
    }

    private final Settings settings;
    private final Clock clock;
    private final DataDirectory dir;
    private final StoreCounters counters = new StoreCounters();
    private final LinkedBlockingQueue<StoreWriter.Op> queue = new LinkedBlockingQueue<>(QUEUE_CAPACITY);
    private volatile Thread writer;
    private volatile boolean closed;

    private DiskStore(Settings settings, Clock clock, DataDirectory dir) {
        this.settings = settings;
        this.clock = clock;
        this.dir = dir;
    }

    /**
     * Opens (creating if needed) and locks the data directory; {@link #recover} then reads it and starts the writer.
     * Throws {@link IllegalStateException} with one line for the operator when the directory cannot be used.
     */
    public static DiskStore open(Settings settings, Clock clock) {
        return new DiskStore(settings, clock, DataDirectory.open(settings.dir()));
    }

    /** The data directory, absolute. */
    public Path directory() {
        return dir.path;
    }

    /**
     * The default {@code --max-store-bytes}: a quarter of the space the store may use in {@code dir}, its own segment
     * files counted as free (else every restart, finding the space they take gone, bounded it lower: below what it
     * held, every stored push answered 507); 1 GiB when the free space cannot be read.
     */
    public static long defaultMaxBytes(Path dir) {
        return defaultMaxBytes(dir, usableBytes(dir));
    }

    /** {@link #defaultMaxBytes(Path)} with {@code free} bytes free on the filesystem (-1 when unknown). */
    static long defaultMaxBytes(Path dir, long free) {
        if (free <= 0) {
            return 1L << 30;
        }
        long own = 0;
        if (java.nio.file.Files.isDirectory(dir)) {
            try (var files = java.nio.file.Files.newDirectoryStream(dir, "segment-*.swblog")) {
                for (Path f : files) {
                    own += java.nio.file.Files.size(f);
                }
            } catch (IOException | RuntimeException e) {
                own = 0; // unreadable here: the store's own start says why
            }
        }
        return Math.max((free + own) / 4, 1024 * 1024);
    }

    /** Free bytes on the data directory's filesystem for this process, or -1 when unknown. */
    public static long usableBytes(Path dir) {
        try {
            Path p = dir.toAbsolutePath();
            while (p != null && !java.nio.file.Files.exists(p)) {
                p = p.getParent();
            }
            return p == null ? -1 : java.nio.file.Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public synchronized void recover(Recovery into) {
        if (writer != null) {
            throw new IllegalStateException("the store recovered already");
        }
        io.switchboard.store.disk.Recovery.Result r;
        StoreWriter w;
        try {
            r = io.switchboard.store.disk.Recovery.run(dir, clock.nowMs(), into);
            counters.accountedBytes.set(r.liveBytes());
            counters.liveRecords.set(r.liveRecords());
            counters.recoveryMs = r.ms();
            counters.recoveredMessages = r.liveRecords();
            counters.recoveredClients = r.clients();
            w = new StoreWriter(dir, settings, clock, queue, counters, r);
            try {
                w.openActive();
            } catch (IOException e) {
                // By its text (English), or by the free space left (the text may be in another language).
                long usable = usableBytes(dir.path);
                if (!DataDirectory.noSpace(e) && !(usable >= 0 && usable < LOW_SPACE_BYTES)) {
                    throw e;
                }
                // A full disk is no reason not to start: what was kept is delivered, pushes without a ttl need no
                // disk, stored ones are answered 503 until space is free (the writer tries a segment every batch).
                log.warn("store: no space for a new segment in {} ({}); stored pushes are answered 503 until space "
                        + "is freed", dir.path, DataDirectory.reason(e));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the store, or start a segment, in " + dir.path + ": "
                    + DataDirectory.reason(e), e);
        }
        Thread t = new Thread(w, "swb-store-writer");
        t.setDaemon(true);
        t.start();
        writer = t; // once alive: a writer seen not alive is one that stopped
    }

    @Override
    public String broken() {
        Thread w = writer;
        return w != null && !closed && !w.isAlive()
                ? "the store's writer stopped on an error (see the log): stored pushes are refused until a restart"
                : null;
    }

    @Override
    public void append(String clientId, long seq, long expiresAtMs, byte[] payload, Appended done) {
        StoreWriter.Op op = new StoreWriter.Op(StoreWriter.Op.MESSAGE, clientId, seq, expiresAtMs, payload, done);
        IOException refused = refusal();
        if (refused == null) {
            op.queuedAtNs = clock.monotonicNs();
            counters.accountedBytes.addAndGet(op.recordBytes);
            if (queue.offer(op)) {
                return;
            }
            counters.accountedBytes.addAndGet(-op.recordBytes);
            refused = new IOException("the store's write queue is full (" + QUEUE_CAPACITY + " operations "
                    + "waiting): the disk is not keeping up");
        }
        counters.failures.increment();
        done.done(refused);
    }

    /** Why an append cannot be taken now, or null. */
    private IOException refusal() {
        Thread w = writer;
        if (closed) {
            return new IOException("the store is closed");
        }
        if (w == null) {
            return new IOException("the store has not recovered yet");
        }
        if (!w.isAlive()) {
            return new IOException("the store's writer stopped on an error (see the log)");
        }
        StoreWriter.Op oldest = queue.peek();
        long waitedNs = oldest == null ? 0 : clock.monotonicNs() - oldest.queuedAtNs;
        if (waitedNs > MAX_BACKLOG_NS) {
            return new IOException("the disk is not keeping up: the oldest write has waited "
                    + waitedNs / 1_000_000 + " ms");
        }
        return null;
    }

    @Override
    public void acknowledged(String clientId, long seq) {
        offerQuietly(new StoreWriter.Op(StoreWriter.Op.ACK, clientId, seq, 0, null, null));
    }

    @Override
    public void forget(String clientId) {
        offerQuietly(new StoreWriter.Op(StoreWriter.Op.FORGET, clientId, 0, 0, null, null));
    }

    /**
     * An acknowledgement or forget the queue has no room for, or no writer to take it (it stopped on an error), is
     * lost: its messages are delivered again after a restart (with their seq, so clients drop them); counted as a
     * failure. Not queued for a writer that is gone: every session that ends forgets, and they piled up on the heap.
     */
    private void offerQuietly(StoreWriter.Op op) {
        op.queuedAtNs = clock.monotonicNs();
        Thread w = writer;
        if (closed || w != null && !w.isAlive() || !queue.offer(op)) {
            counters.failures.increment();
        }
    }

    /** Operations waiting for the writer now. */
    int waitingForWriter() {
        return queue.size();
    }

    @Override
    public boolean full(int payloadBytes) {
        return counters.accountedBytes.get() + RECORD_OVERHEAD + payloadBytes > settings.maxBytes();
    }

    @Override
    public StoreStats stats() {
        return counters.snapshot(settings.maxBytes());
    }

    /** Writes what is queued, syncs, and releases the directory; waits up to 30 s for the writer. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Thread w = writer;
        if (w != null) {
            try {
                // Bounded: a writer that died (an Error) leaves a full queue nobody takes from, and a put would
                // hang the shutdown for good.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                StoreWriter.Op stop = new StoreWriter.Op(StoreWriter.Op.STOP, null, 0, 0, null, null);
                while (w.isAlive() && !queue.offer(stop, 100, TimeUnit.MILLISECONDS)
                        && System.nanoTime() - deadline < 0) {
                    // the writer is draining the queue
                }
                w.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (w.isAlive()) {
                log.warn("store: the writer did not finish within 30 s; what it had not synced may be lost");
            }
        }
        dir.close();
    }
}
