package io.switchboard.store.disk;

import io.switchboard.store.MessageStore;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every segment at start, oldest first, and rebuilds what is still kept: per client the messages after its
 * last acknowledgement (a later copy of a record, made by compaction, wins over the original), without the expired
 * ones; a {@code forget} record ends what came before it. A torn or damaged tail is cut (one log line per file) and
 * everything before it is kept; a damaged record with intact ones after it is skipped ({@link SegmentReader}).
 * Hands each client to the session core and leaves the writer an index of where the live records are. Runs once,
 * on the starting thread.
 */
final class Recovery implements Records.Visitor {
    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    /** What the writer starts from. */
    record Result(TreeMap<Integer, Segment> segments, Map<String, ClientRecords> index, long liveBytes,
                  long liveRecords, long clients, long ms, int lastSegmentId) {
    }

    private record Pending(long seq, long expiresAtMs, byte[] payload, int segment, int recordBytes) {
    }

    private static final class Client {
        long lastSeq;
        long ackedUpTo = Long.MIN_VALUE;
        final List<Pending> pending = new ArrayList<>(2);
    }

    private final Map<String, Client> clients = new HashMap<>();
    private int segment;
    /** The highest seq of any record read, of every client (forgotten ones too). */
    private long highestSeq;

    /** The time recovery runs at: a message expired by then is not kept, so its payload is not even read. */
    private final long nowMs;

    private Recovery(long nowMs) {
        this.nowMs = nowMs;
    }

    /**
     * Expired messages are not loaded: of a store of offline clients that never came back, mostly expired, a restart
     * would otherwise hold every payload on the heap until the whole log was read (up to twice the live data, which
     * compaction lets stay on disk), and a store that ran fine could fail to start for want of heap.
     */
    @Override
    public boolean wantsPayload(long expiresAtMs) {
        return expiresAtMs > nowMs;
    }

    static Result run(DataDirectory dir, long nowMs, MessageStore.Recovery into) throws IOException {
        long started = System.nanoTime();
        Recovery r = new Recovery(nowMs);
        TreeMap<Integer, Segment> segments = new TreeMap<>();
        int lastId = 0;
        long readBytes = 0;
        List<Integer> ids = dir.segmentIds();
        for (int id : ids) {
            lastId = id;
            Segment s;
            try {
                s = r.readSegment(dir, id, id == ids.getLast());
            } catch (IOException e) {
                // An unreadable file (a bad sector: EIO) would otherwise say only "Input/output error".
                String file = dir.segmentPath(id).toString();
                throw e.getMessage() != null && e.getMessage().contains(file) ? e
                        : new IOException("reading " + file + ": " + e.getMessage() + " (if it stays unreadable, move "
                                + "it out of the data directory; the messages kept in it are lost)", e);
            }
            if (s != null) {
                segments.put(id, s);
                readBytes += s.size;
            }
        }
        Map<String, ClientRecords> index = new HashMap<>();
        long[] totals = new long[3]; // live bytes, live records, clients
        r.clients.forEach((id, c) -> {
            List<MessageStore.Stored> kept = r.keep(id, c, nowMs, segments, index, totals);
            if (!kept.isEmpty()) {
                totals[2]++;
                into.client(id, c.lastSeq, kept);
            }
        });
        into.highestSeq(r.highestSeq);
        long ms = (System.nanoTime() - started) / 1_000_000;
        log.info("store: {}: recovered {} messages of {} clients from {} segments ({} bytes) in {} ms",
                dir.path, totals[1], totals[2], segments.size(), readBytes, ms);
        return new Result(segments, index, totals[0], totals[1], totals[2], ms, lastId);
    }

    /** Reads segment {@code id}; cuts a damaged tail; returns null (and deletes the file) when it holds nothing. */
    private Segment readSegment(DataDirectory dir, int id, boolean newest) throws IOException {
        segment = id;
        var path = dir.segmentPath(id);
        long validEnd;
        long fileSize;
        String problem;
        try (SegmentReader reader = SegmentReader.open(path, newest)) {
            reader.readAll(this);
            validEnd = reader.validEnd();
            fileSize = reader.fileSize();
            problem = reader.problem();
            if (reader.skipped() > 0) {
                // A skipped record may have been a message (lost), an acknowledgement (its messages come again)
                // or a forget (what it ended comes back): one line says which bytes went.
                log.warn("store: {}: skipped {} damaged records, {} bytes, with intact ones after them (the first: "
                        + "{}); the records around them are kept", path.getFileName(), reader.skipped(),
                        reader.skippedBytes(), reader.firstSkipped());
            }
        }
        if (problem != null) {
            log.warn("store: {}: cut {} bytes at offset {}: found {} there; the {} bytes before it are intact",
                    path.getFileName(), fileSize - validEnd, validEnd, problem, validEnd);
        }
        if (validEnd <= Records.MAGIC.length) {
            Files.deleteIfExists(path);
            dir.sync();
            return null;
        }
        if (validEnd < fileSize) {
            DataDirectory.truncate(path, validEnd);
        }
        return new Segment(id, path, validEnd);
    }

    @Override
    public void message(String clientId, long seq, long expiresAtMs, byte[] payload, int recordBytes) {
        Client c = clients.computeIfAbsent(clientId, k -> new Client());
        c.lastSeq = Math.max(c.lastSeq, seq);
        highestSeq = Math.max(highestSeq, seq);
        if (seq <= c.ackedUpTo) {
            // Written after an ACK that covers it: a new session of the same id that started its seqs again
            // (--seq-origin zero, or a wall clock stepped back), whose predecessor's records all ended before it,
            // acknowledged (the writer writes no FORGET for a client it holds nothing of). The log is in the order
            // written, and compaction copies only records live in the index (the same seq, expiry and size), never
            // one after the ACK that ended it: what came before is over.
            c.pending.clear();
            c.ackedUpTo = Long.MIN_VALUE;
        }
        if (payload == null) {
            // Expired (wantsPayload): not kept, like an expired copy below; an older unexpired copy of the same seq
            // cannot be (a copy keeps its record's expiry).
            return;
        }
        c.pending.add(new Pending(seq, expiresAtMs, payload, segment, recordBytes));
    }

    @Override
    public void ack(String clientId, long seq) {
        Client c = clients.computeIfAbsent(clientId, k -> new Client());
        c.lastSeq = Math.max(c.lastSeq, seq);
        highestSeq = Math.max(highestSeq, seq);
        if (seq > c.ackedUpTo) {
            c.ackedUpTo = seq;
            if (!c.pending.isEmpty() && c.pending.get(0).seq() <= seq) {
                c.pending.removeIf(p -> p.seq() <= seq);
            }
        }
    }

    @Override
    public void forget(String clientId) {
        clients.remove(clientId);
    }

    /**
     * The client's kept messages in seq order: one per seq (the last read, which is where the record lives now),
     * unexpired; indexes them and counts them in their segments.
     */
    private List<MessageStore.Stored> keep(String id, Client c, long nowMs, TreeMap<Integer, Segment> segments,
                                           Map<String, ClientRecords> index, long[] totals) {
        List<Pending> all = c.pending;
        all.sort(Comparator.comparingLong(Pending::seq)); // stable: of equal seqs, the one read last stays last
        List<MessageStore.Stored> kept = new ArrayList<>(all.size());
        ClientRecords records = null;
        for (int i = 0; i < all.size(); i++) {
            Pending p = all.get(i);
            if (i + 1 < all.size() && all.get(i + 1).seq() == p.seq()) {
                continue; // an older copy of the same record
            }
            if (p.seq() <= c.ackedUpTo) {
                // Acknowledged: a copy compaction made can be read after a younger message and before the ACK,
                // so the ACK's removal above (which only looks when the oldest pending is covered) can miss it.
                continue;
            }
            if (p.expiresAtMs() <= nowMs) {
                continue;
            }
            Segment s = segments.get(p.segment());
            if (s == null) {
                continue; // its segment was cut away entirely (it cannot be: a kept record's segment stays)
            }
            if (records == null) {
                records = new ClientRecords(Records.id(id));
                index.put(id, records);
            }
            records.add(p.seq(), p.expiresAtMs(), p.segment(), p.recordBytes());
            s.liveBytes += p.recordBytes();
            s.liveRecords++;
            totals[0] += p.recordBytes();
            totals[1]++;
            kept.add(new MessageStore.Stored(p.seq(), p.expiresAtMs(), p.payload()));
        }
        return kept;
    }
}
