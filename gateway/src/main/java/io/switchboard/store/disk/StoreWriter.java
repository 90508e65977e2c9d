package io.switchboard.store.disk;

import io.switchboard.clock.Clock;
import io.switchboard.store.MessageStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's one writer thread: takes every operation waiting in the queue as one batch, appends its records to
 * the active segment with one write, syncs once for the whole batch ({@code batch}), once per message
 * ({@code always}) or on a timer ({@code interval}), then answers the batch's appends. Between batches it rolls
 * full segments, drops expired records from its index, and compacts: when the files hold more than twice the live
 * bytes plus a segment, the oldest segment's live records are copied forward, in slices, and the file deleted.
 *
 * <p>Only the oldest segment is ever deleted: acknowledgement and forget records in a newer one may still be what
 * keeps an older record from counting at recovery.
 */
final class StoreWriter implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(StoreWriter.class);
    private static final int MAX_BATCH = 4096;
    private static final int BUFFER_BYTES = 1024 * 1024;
    private static final long SWEEP_INTERVAL_MS = 10_000;
    private static final long COMPACTION_SLICE_BYTES = 4 * 1024 * 1024;
    private static final long IDLE_WAIT_MS = 1000;
    private static final long COMPACTION_RETRY_MS = 60_000;

    /** One operation for the writer. */
    static final class Op {
        static final byte MESSAGE = Records.MESSAGE;
        static final byte ACK = Records.ACK;
        static final byte FORGET = Records.FORGET;
        static final byte STOP = 0;

        final byte type;
        final String clientId;
        final byte[] id;
        final long seq;
        final long expiresAtMs;
        final byte[] payload;
        final MessageStore.Appended done;
        /** For a message: its record's size, counted in {@link StoreCounters#accountedBytes} until it dies. */
        final int recordBytes;
        /** Set by the writer once the message is in its index (so a failure takes it out again). */
        boolean indexed;
        /** When it was queued (the store clock's monotonic time), for {@link DiskStore}'s backlog check. */
        long queuedAtNs;

        Op(byte type, String clientId, long seq, long expiresAtMs, byte[] payload, MessageStore.Appended done) {
            this.type = type;
            this.clientId = clientId;
            this.id = clientId == null ? null : Records.id(clientId);
            this.seq = seq;
            this.expiresAtMs = expiresAtMs;
            this.payload = payload;
            this.done = done;
            this.recordBytes = type == MESSAGE ? Records.messageBytes(id.length, payload.length) : 0;
        }
    }

    private final DataDirectory dir;
    private final DiskStore.Settings settings;
    private final Clock clock;
    private final BlockingQueue<Op> queue;
    private final StoreCounters counters;
    private final TreeMap<Integer, Segment> segments;
    private final Map<String, ClientRecords> clients;
    private final ClientRecords.Dropped dropped = this::dropped;
    private final List<Op> batch = new ArrayList<>(MAX_BATCH);
    /** Appends of the current batch not answered yet. */
    private final List<Op> unanswered = new ArrayList<>();
    private ByteBuffer out = ByteBuffer.allocateDirect(BUFFER_BYTES);
    private Segment active;
    private int lastSegmentId;
    private boolean unsynced;
    /** When the last sync and the next expiry sweep are or were, in {@link Clock#monotonicNs()} as ms: a wall-clock
     * step must not stop the interval syncs for as long as it stepped back. */
    private long lastSyncMonoMs;
    private long nextSweepMonoMs;
    private long failuresLogged;
    private SegmentReader compacting;
    private Segment compactingSegment;
    /** After a segment could not be read or deleted: no compaction before this (monotonic ms). */
    private long compactionPausedUntilMonoMs;

    StoreWriter(DataDirectory dir, DiskStore.Settings settings, Clock clock, BlockingQueue<Op> queue,
                StoreCounters counters, Recovery.Result recovered) {
        this.dir = dir;
        this.settings = settings;
        this.clock = clock;
        this.queue = queue;
        this.counters = counters;
        this.segments = recovered.segments();
        this.clients = recovered.index();
        this.lastSegmentId = recovered.lastSegmentId();
        long disk = 0;
        for (Segment s : segments.values()) {
            disk += s.size;
        }
        counters.diskBytes.set(disk);
        counters.segments = segments.size();
        this.lastSyncMonoMs = monoMs(); // the monotonic clock's origin is arbitrary: never 0 as a start
        this.nextSweepMonoMs = lastSyncMonoMs + SWEEP_INTERVAL_MS;
    }

    /** Opens the first active segment, on the starting thread, so that a directory that cannot take one fails the start. */
    void openActive() throws IOException {
        roll();
    }

    /** Tests only: while set, the writer waits for it before taking the next batch (a disk that stalls). */
    static volatile java.util.concurrent.CountDownLatch stalledForTests;
    /** Tests only: thrown once by the next batch (an unexpected error, such as an OutOfMemoryError, in the writer). */
    static volatile Error failNextBatchForTests;
    /** Tests: the next compaction slice with copies fails to write them (a full disk), once. */
    static volatile IOException failNextCompactionWriteForTests;

    @Override
    public void run() {
        boolean stopping = false;
        try {
            while (!stopping) {
                java.util.concurrent.CountDownLatch stall = stalledForTests;
                if (stall != null) {
                    stall.await();
                }
                Op first = queue.poll(waitMs(), TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, MAX_BATCH - 1);
                    stopping = process(batch);
                    batch.clear();
                }
                if (!stopping) {
                    housekeeping();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            log.error("store: the writer stopped on an unexpected error; stored pushes are answered 503 from now on "
                    + "and /healthz answers 503: restart the gateway", e);
            // The batch it was writing: answered now (503) rather than by each push's 10 s timeout, and its records
            // still in the buffer dropped (the shutdown below syncs what it writes: messages answered 503 would be
            // kept, duplicates of their backends' retries; those a full buffer wrote out already may stay).
            try {
                out.clear();
                answer(e);
            } catch (RuntimeException | Error again) {
                // answering is best effort here
            }
        } finally {
            shutdown();
        }
    }

    private long monoMs() {
        return clock.monotonicNs() / 1_000_000L;
    }

    private long waitMs() {
        if (compacting != null) {
            return 0;
        }
        long wait = IDLE_WAIT_MS;
        if (unsynced && active != null) {
            wait = Math.max(0, Math.min(wait, lastSyncMonoMs + syncEveryMs() - monoMs()));
        }
        return wait;
    }

    /**
     * How long written records may wait for a sync: {@link DiskStore.Fsync#INTERVAL}'s interval; with BATCH and
     * ALWAYS, whose appends are synced before they are answered, the acknowledgements and forgets written after the
     * last of them, a second (they waited for the next stored push: after a power loss every message acknowledged
     * since came again).
     */
    private long syncEveryMs() {
        return settings.fsync() == DiskStore.Fsync.INTERVAL ? settings.fsyncIntervalMs() : UNANSWERED_SYNC_MS;
    }

    private static final long UNANSWERED_SYNC_MS = 1_000;

    /** Writes one batch and answers its appends; true when it held the stop request. */
    private boolean process(List<Op> ops) {
        Error fail = failNextBatchForTests;
        if (fail != null) {
            failNextBatchForTests = null;
            for (Op op : ops) {
                if (op.type == Op.MESSAGE) {
                    unanswered.add(op);
                }
            }
            throw fail;
        }
        boolean stop = false;
        long goodSize = active == null ? -1 : active.size;
        int i = 0;
        try {
            if (active == null) {
                roll();
                goodSize = active.size;
            }
            for (; i < ops.size(); i++) {
                Op op = ops.get(i);
                switch (op.type) {
                    case Op.MESSAGE -> {
                        long waitedNs = clock.monotonicNs() - op.queuedAtNs;
                        if (waitedNs > DiskStore.GIVE_UP_NS) {
                            tooLate(op, waitedNs);
                            continue;
                        }
                        message(op);
                        if (settings.fsync() == DiskStore.Fsync.ALWAYS) {
                            flushAndSync();
                            answer(null);
                            goodSize = active.size;
                        }
                    }
                    case Op.ACK -> ack(op);
                    case Op.FORGET -> forget(op);
                    default -> stop = true;
                }
            }
            flush();
            if (!unanswered.isEmpty() && settings.fsync() != DiskStore.Fsync.INTERVAL) {
                sync();
            }
            answer(null);
            // Answered: from here a failure (the roll's sync) must not cut these records away again.
            goodSize = active.size;
            if (active.size >= settings.segmentBytes()) {
                roll();
            }
        } catch (IOException | RuntimeException e) {
            // The ops not reached yet fail with the batch; a stop request among them still stops.
            for (; i < ops.size(); i++) {
                Op op = ops.get(i);
                if (op.type == Op.MESSAGE && !op.indexed) {
                    unanswered.add(op);
                } else if (op.type == Op.ACK || op.type == Op.FORGET) {
                    unindex(op);
                } else if (op.type == Op.STOP) {
                    stop = true;
                }
            }
            writeFailed(goodSize, e);
        }
        return stop;
    }

    private void message(Op op) throws IOException {
        ClientRecords earlier = clients.get(op.clientId);
        if (earlier != null && !earlier.isEmpty() && op.seq <= earlier.seq(earlier.size() - 1)) {
            // A client's seqs only grow, but for a new session numbered from 1 again (--seq-origin zero) whose
            // predecessor's FORGET was lost (the queue full): what it kept is over. Forgotten now, in the log too,
            // or the index (kept in seq order) would lose track of these, and a restart hand the old ones over too.
            forget(new Op(Op.FORGET, op.clientId, 0, 0, null, null));
        }
        ensureRoom(op.recordBytes);
        Records.putMessage(out, op.id, op.seq, op.expiresAtMs, op.payload);
        appended(op.recordBytes);
        clients.computeIfAbsent(op.clientId, k -> new ClientRecords(op.id))
                .add(op.seq, op.expiresAtMs, active.id, op.recordBytes);
        op.indexed = true;
        active.liveBytes += op.recordBytes;
        active.liveRecords++;
        counters.liveRecords.incrementAndGet();
        unanswered.add(op);
    }

    /**
     * Takes what an ACK or a FORGET ends out of the index; true when that was anything (then its record is written).
     * Also for the ops of a failed batch, whose records are not written: what they ended stops counting against the
     * size limit and is not copied by compaction (after a restart before its segment goes, it is delivered again).
     */
    private boolean unindex(Op op) {
        if (op.type == Op.FORGET) {
            ClientRecords r = clients.remove(op.clientId);
            return r != null && r.dropUpTo(Long.MAX_VALUE, dropped) > 0;
        }
        ClientRecords r = clients.get(op.clientId);
        if (r == null || r.dropUpTo(op.seq, dropped) == 0) {
            return false; // nothing of it was kept: no record needed
        }
        if (r.isEmpty()) {
            clients.remove(op.clientId);
        }
        return true;
    }

    private void ack(Op op) throws IOException {
        if (!unindex(op)) {
            return;
        }
        int bytes = Records.ackBytes(op.id.length);
        ensureRoom(bytes);
        Records.putAck(out, op.id, op.seq);
        appended(bytes);
    }

    private void forget(Op op) throws IOException {
        if (!unindex(op)) {
            return;
        }
        int bytes = Records.forgetBytes(op.id.length);
        ensureRoom(bytes);
        Records.putForget(out, op.id);
        appended(bytes);
    }

    private void appended(int bytes) {
        active.size += bytes;
        counters.diskBytes.addAndGet(bytes);
        unsynced = true;
    }

    /** A record stopped being live (acknowledged, forgotten, expired, or its append failed). */
    private void dropped(int segment, int recordBytes) {
        Segment s = segments.get(segment);
        if (s != null) {
            s.liveBytes -= recordBytes;
            s.liveRecords--;
        }
        counters.liveRecords.decrementAndGet();
        counters.accountedBytes.addAndGet(-recordBytes);
    }

    private void ensureRoom(int bytes) throws IOException {
        if (out.remaining() >= bytes) {
            return;
        }
        flush();
        if (out.capacity() < bytes) {
            out = ByteBuffer.allocate(bytes); // a record larger than the usual buffer: a heap buffer, once
        }
    }

    private void flush() throws IOException {
        out.flip();
        try {
            while (out.hasRemaining()) {
                active.channel.write(out);
            }
        } finally {
            out.clear();
            if (!out.isDirect()) {
                out = ByteBuffer.allocateDirect(BUFFER_BYTES);
            }
        }
    }

    private void sync() throws IOException {
        long t0 = System.nanoTime();
        active.channel.force(false);
        counters.fsynced(System.nanoTime() - t0);
        unsynced = false;
        lastSyncMonoMs = monoMs();
    }

    private void flushAndSync() throws IOException {
        flush();
        sync();
    }

    /** Fails an append that waited too long for its write (see {@link DiskStore#GIVE_UP_NS}); nothing is written. */
    private void tooLate(Op op, long waitedNs) {
        counters.accountedBytes.addAndGet(-op.recordBytes);
        counters.failures.increment();
        if (failuresLogged++ % 1000 == 0) {
            log.warn("store: a stored push waited {} ms for the disk and is answered 503 unwritten (the disk is not "
                    + "keeping up; every 1000th failure is logged)", waitedNs / 1_000_000);
        }
        try {
            op.done.done(new IOException("the disk is not keeping up: the write waited " + waitedNs / 1_000_000
                    + " ms"));
        } catch (RuntimeException e) {
            log.warn("store: answering an append failed: {}", e.toString());
        }
    }

    private void answer(Throwable failure) {
        for (Op op : unanswered) {
            if (failure != null) {
                counters.failures.increment();
            }
            try {
                op.done.done(failure);
            } catch (RuntimeException e) {
                log.warn("store: answering an append failed: {}", e.toString());
            }
        }
        unanswered.clear();
    }

    /**
     * A write or sync failed (disk full, I/O error): the batch's unanswered appends are answered with the failure
     * and leave the index; the segment is cut back to its last good size and sealed, so the next batch starts a
     * new one (after a failed fsync the kernel may have dropped pages it reported dirty: never write behind it).
     */
    private void writeFailed(long goodSize, Exception e) {
        out.clear();
        for (int i = unanswered.size() - 1; i >= 0; i--) {
            Op op = unanswered.get(i);
            if (!op.indexed) {
                counters.accountedBytes.addAndGet(-op.recordBytes);
                continue;
            }
            ClientRecords r = clients.get(op.clientId);
            if (r != null && r.dropLast(op.seq, dropped) && r.isEmpty()) {
                clients.remove(op.clientId);
            }
        }
        if (failuresLogged++ % 1000 == 0) {
            log.warn("store: writing to {} failed ({}); {} stored pushes answered 503 (every 1000th failure is "
                    + "logged)", active == null ? dir.path : active, e.toString(), unanswered.size());
        }
        if (unanswered.isEmpty()) {
            counters.failures.increment();
        }
        answer(e);
        abortCompaction();
        if (active != null) {
            try {
                if (goodSize >= 0 && active.size > goodSize) {
                    counters.diskBytes.addAndGet(goodSize - active.size);
                    active.channel.truncate(goodSize);
                    active.size = goodSize;
                }
                active.channel.force(false);
            } catch (IOException again) {
                // sealed as it is: recovery cuts whatever is torn at its end
            }
            seal(active);
            active = null;
        }
        unsynced = false; // sealed, synced as far as it could be: no interval sync is due until the next segment
    }

    /** Seals the active segment (synced) and opens the next one. */
    private void roll() throws IOException {
        if (active != null) {
            flushAndSync();
            seal(active);
            active = null;
        }
        // A failed create (disk full, retried every batch) takes no id, unless it left its file behind.
        Segment s;
        try {
            s = dir.create(lastSegmentId + 1);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            lastSegmentId++;
            throw e;
        }
        lastSegmentId = s.id;
        segments.put(s.id, s);
        active = s;
        counters.diskBytes.addAndGet(s.size);
        counters.segments = segments.size();
    }

    private void seal(Segment s) {
        try {
            s.channel.close();
        } catch (IOException ignored) {
            // nothing more to write to it
        }
        s.channel = null;
    }

    // ---- between batches

    /**
     * During housekeeping: the active segment's size up to which everything is whole and counted by the index; a
     * failed compaction slice cuts it back to there (its copies counted in the size, not all written).
     */
    private long committedSize = -1;

    private void housekeeping() {
        long mono = monoMs();
        committedSize = active == null ? -1 : active.size;
        try {
            if (unsynced && mono - lastSyncMonoMs >= syncEveryMs() && active != null) {
                sync();
            }
            if (mono - nextSweepMonoMs >= 0) {
                nextSweepMonoMs = mono + SWEEP_INTERVAL_MS;
                sweep(clock.nowMs()); // expiry itself is wall-clock time, kept across restarts
            }
            compact();
        } catch (IOException | RuntimeException e) {
            writeFailed(active == null ? -1 : committedSize, e);
        }
    }

    /** Drops expired records from the index (the sessions drop their own copies). */
    void sweep(long nowMs) {
        for (Iterator<ClientRecords> it = clients.values().iterator(); it.hasNext(); ) {
            ClientRecords r = it.next();
            if (r.dropExpired(nowMs, dropped) > 0 && r.isEmpty()) {
                it.remove();
            }
        }
    }

    /** One slice of compaction, when due. */
    private void compact() throws IOException {
        if (compacting == null) {
            // Also while no segment is open (the disk is full): deleting what no longer counts is what frees it.
            if (monoMs() - compactionPausedUntilMonoMs < 0) {
                return;
            }
            Segment oldest = segments.isEmpty() ? null : segments.firstEntry().getValue();
            while (oldest != null && oldest != active && oldest.liveRecords == 0) {
                try {
                    delete(oldest); // nothing in it counts any more: no copying needed
                } catch (IOException e) {
                    compactionFailed(oldest, "deleting", e);
                    return;
                }
                oldest = segments.isEmpty() ? null : segments.firstEntry().getValue();
            }
            if (active == null) {
                return;
            }
            if (oldest == active || counters.diskBytes.get() <= 2 * counters.accountedBytes.get()
                    + settings.segmentBytes()) {
                return;
            }
            try {
                compacting = SegmentReader.open(oldest.path);
            } catch (IOException e) {
                compactionFailed(oldest, "opening", e);
                return;
            }
            compactingSegment = oldest;
        }
        copied.clear();
        boolean more;
        IOException readError = null;
        try {
            more = compacting.read(copier, COMPACTION_SLICE_BYTES);
        } catch (IOException e) { // reading the old segment; a failed write of a copy is an UncheckedIOException
            readError = e;
            more = true;
        }
        IOException failWrite = failNextCompactionWriteForTests;
        if (failWrite != null && !copied.isEmpty()) {
            failNextCompactionWriteForTests = null;
            throw failWrite;
        }
        flush();
        if (!copied.isEmpty()) {
            sync();
        }
        // Only now, the slice's copies written and synced, does the index say they live in the active segment: moved
        // before, a failed write would leave the originals' segment counted empty, and it would be deleted.
        for (Copied c : copied) {
            int i = c.records().indexOf(c.seq());
            if (i >= 0 && c.records().segment(i) == compactingSegment.id) {
                c.records().moveTo(i, active.id);
                compactingSegment.liveBytes -= c.bytes();
                compactingSegment.liveRecords--;
                active.liveBytes += c.bytes();
                active.liveRecords++;
            }
        }
        copied.clear();
        committedSize = active.size; // the copies written, synced and in the index: a later failure keeps them
        if (readError != null) {
            // What was copied so far is written and moved; the rest stays where it is, and the active segment too.
            Segment failed = compactingSegment;
            abortCompaction();
            compactionFailed(failed, "reading", readError);
        } else if (!more) {
            if (compacting.skipped() > 0) {
                log.warn("store: compacting {}: skipped {} damaged records, {} bytes (found at recovery or since; "
                        + "the first: {}); the live records around them were copied", compactingSegment,
                        compacting.skipped(), compacting.skippedBytes(), compacting.firstSkipped());
            }
            if (compacting.problem() != null) {
                log.warn("store: compacting {}: stopped at offset {} ({}); the records after it were cut at "
                        + "recovery or are damaged since", compactingSegment, compacting.validEnd(),
                        compacting.problem());
            }
            compacting.close();
            compacting = null;
            sync(); // the copies are durable before the original goes
            Segment done = compactingSegment;
            compactingSegment = null;
            try {
                delete(done);
            } catch (IOException e) {
                compactionFailed(done, "deleting", e);
            }
        }
        if (active.size >= settings.segmentBytes()) {
            roll();
        }
    }

    /**
     * A segment could not be read or deleted by compaction (a bad sector, out of file descriptors, ...): not a
     * failure of the writes, so the active segment stays open; compaction waits a minute before it tries again.
     */
    private void compactionFailed(Segment s, String doing, IOException e) {
        compactionPausedUntilMonoMs = monoMs() + COMPACTION_RETRY_MS;
        // Counted with the failed writes (store failures_total), and logged on its own count: compaction tries once
        // a minute, and while the oldest segment cannot go, no newer one can (its acknowledgements still cover the
        // messages in the oldest), so the files grow until it does.
        counters.failures.increment();
        if (compactionFailures++ % 10 == 0) {
            log.warn("store: compaction: {} {} failed ({}), {} times now; trying again every {} s (every 10th failure is "
                    + "logged). No newer segment is deleted until this one is: the files grow. If it stays unreadable, "
                    + "stop the server and move it out of the data directory (the messages still kept in it are lost)",
                    doing, s, e.toString(), compactionFailures, COMPACTION_RETRY_MS / 1000);
        }
    }

    /** Compaction's failures so far (for its log lines). */
    private long compactionFailures;

    /** A record the running compaction slice copied to the active segment, moved in the index once written. */
    private record Copied(ClientRecords records, long seq, int bytes) {
    }

    /** The running slice's copies (at most a slice's worth of records). */
    private final List<Copied> copied = new ArrayList<>();

    /** Copies live message records of the segment being compacted to the active one. */
    private final Records.Visitor copier = new Records.Visitor() {
        @Override
        public void message(String clientId, long seq, long expiresAtMs, byte[] payload, int recordBytes) {
            ClientRecords r = clients.get(clientId);
            int i = r == null ? -1 : r.indexOf(seq);
            // The very record the index names, not only its seq: an earlier session of the same id that numbered
            // from the same origin (--seq-origin zero) can have left an acknowledged record with that seq here.
            if (i < 0 || r.segment(i) != compactingSegment.id || r.expiresAtMs(i) != expiresAtMs
                    || r.recordBytes(i) != recordBytes) {
                return;
            }
            try {
                ensureRoom(recordBytes);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Records.putMessage(out, r.id, seq, expiresAtMs, payload);
            appended(recordBytes);
            copied.add(new Copied(r, seq, recordBytes));
        }

        @Override
        public void ack(String clientId, long seq) {
            // the oldest segment's acknowledgements concern only records in it: they go with it
        }

        @Override
        public void forget(String clientId) {
        }
    };

    private void delete(Segment s) throws IOException {
        dir.delete(s);
        segments.remove(s.id);
        counters.diskBytes.addAndGet(-s.size);
        counters.segments = segments.size();
    }

    private void abortCompaction() {
        copied.clear(); // not written: the originals stay where the index says
        if (compacting != null) {
            try {
                compacting.close();
            } catch (IOException ignored) {
                // only read
            }
            compacting = null;
            compactingSegment = null;
        }
    }

    /** After the stop request (or a fatal error): syncs and closes the active segment; deletes it if empty. */
    private void shutdown() {
        abortCompaction();
        if (active != null) {
            try {
                flushAndSync();
                seal(active);
                if (!active.hasRecords()) {
                    delete(active);
                }
            } catch (IOException e) {
                log.warn("store: closing {} failed: {}", active, e.toString());
            }
            active = null;
        }
        // Appends that raced with the stop: answered, never left hanging.
        List<Op> left = new ArrayList<>();
        queue.drainTo(left);
        IOException closed = new IOException("the store is closed");
        for (Op op : left) {
            if (op.done != null) {
                op.done.done(closed);
            }
        }
    }

    // ---- for tests

    /** Compacts until nothing is due; on the writer's thread only (tests drive a writer without its thread). */
    void compactFully() throws IOException {
        do {
            compact();
        } while (compacting != null);
    }

    int segmentCount() {
        return segments.size();
    }
}
