package io.switchboard.store.disk;

/**
 * Where one client's live message records are: seq, expiry, segment and size of each, in seq order, packed in
 * parallel arrays (24 bytes a message; the payloads live in the sessions' queues, not here). Owned by the store's
 * writer thread.
 */
final class ClientRecords {
    /** Gets the segment and size of each record that stops being live. */
    interface Dropped {
        void dropped(int segment, int recordBytes);
    }

    final byte[] id;
    private long[] seqs = new long[2];
    private long[] expiries = new long[2];
    /** segment id in the high 32 bits, record size in the low 32. */
    private long[] places = new long[2];
    private int head;
    private int size;
    /** The arrays' smallest length once they grew: shrinking below it would only make them grow again. */
    private static final int MIN_CAPACITY = 8;

    ClientRecords(byte[] id) {
        this.id = id;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    private int slot(int i) {
        return (head + i) & (seqs.length - 1);
    }

    long seq(int i) {
        return seqs[slot(i)];
    }

    long expiresAtMs(int i) {
        return expiries[slot(i)];
    }

    int segment(int i) {
        return (int) (places[slot(i)] >>> 32);
    }

    int recordBytes(int i) {
        return (int) places[slot(i)];
    }

    /** Adds a record after the others (its seq is higher than theirs). */
    void add(long seq, long expiresAtMs, int segment, int recordBytes) {
        if (size == seqs.length) {
            grow();
        }
        int s = slot(size);
        seqs[s] = seq;
        expiries[s] = expiresAtMs;
        places[s] = place(segment, recordBytes);
        size++;
    }

    private static long place(int segment, int recordBytes) {
        return ((long) segment << 32) | (recordBytes & 0xffffffffL);
    }

    /** Moves record {@code i} to another segment (compaction copied it there). */
    void moveTo(int i, int segment) {
        int s = slot(i);
        places[s] = place(segment, (int) places[s]);
    }

    /** The index of the record with {@code seq}, or -1. */
    int indexOf(long seq) {
        int lo = 0;
        int hi = size - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long s = seq(mid);
            if (s < seq) {
                lo = mid + 1;
            } else if (s > seq) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** Drops every record up to {@code seq}; returns how many. */
    int dropUpTo(long seq, Dropped into) {
        int n = 0;
        while (size > 0 && seqs[head] <= seq) {
            into.dropped((int) (places[head] >>> 32), (int) places[head]);
            head = (head + 1) & (seqs.length - 1);
            size--;
            n++;
        }
        shrinkIfSparse();
        return n;
    }

    /** Drops the last record if its seq is {@code seq} (an append that failed); true when dropped. */
    boolean dropLast(long seq, Dropped into) {
        if (size == 0 || seq(size - 1) != seq) {
            return false;
        }
        int s = slot(size - 1);
        into.dropped((int) (places[s] >>> 32), (int) places[s]);
        size--;
        return true;
    }

    /** Drops every record expired at {@code nowMs}, wherever it is; returns how many. */
    int dropExpired(long nowMs, Dropped into) {
        int kept = 0;
        int n = size;
        for (int i = 0; i < n; i++) {
            int from = slot(i);
            if (expiries[from] <= nowMs) {
                into.dropped((int) (places[from] >>> 32), (int) places[from]);
                continue;
            }
            int to = slot(kept++);
            seqs[to] = seqs[from];
            expiries[to] = expiries[from];
            places[to] = places[from];
        }
        size = kept;
        shrinkIfSparse();
        return n - kept;
    }

    /** Slots the arrays have room for (a power of two). */
    int capacity() {
        return seqs.length;
    }

    private void grow() {
        resize(seqs.length * 2);
    }

    /**
     * Halves the arrays while a quarter of them or less is used: a client that once had many messages waiting (up
     * to --max-queued) and keeps a few must not hold arrays sized for all of them for as long as it keeps any.
     */
    private void shrinkIfSparse() {
        int n = seqs.length;
        while (n > MIN_CAPACITY && size <= n / 4) {
            n /= 2;
        }
        if (n != seqs.length) {
            resize(n);
        }
    }

    private void resize(int n) {
        long[] s = new long[n];
        long[] e = new long[n];
        long[] p = new long[n];
        for (int i = 0; i < size; i++) {
            int from = slot(i);
            s[i] = seqs[from];
            e[i] = expiries[from];
            p[i] = places[from];
        }
        seqs = s;
        expiries = e;
        places = p;
        head = 0;
    }
}
