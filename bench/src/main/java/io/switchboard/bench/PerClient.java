package io.switchboard.bench;

/**
 * A cost per client: how much a total (heap, RSS, kernel slab) grew while the clients connected, divided by
 * their number, or why that figure would mean nothing (too few clients for the noise of a whole process, a
 * total that shrank, a total that was not read). Immutable.
 *
 * @param bytes  the growth per client; meaningful only when {@code reason} is null
 * @param reason why there is no figure, or null
 */
record PerClient(long bytes, String reason) {
    /** Below this many clients a process's own noise (GC, allocator, page cache) outweighs their cost. */
    static final long MIN_CLIENTS = 100;

    static PerClient of(long before, long after, long clients) {
        if (before < 0 || after < 0) {
            return new PerClient(0, "not measured");
        }
        if (clients <= 0) {
            return new PerClient(0, "no clients connected");
        }
        if (clients < MIN_CLIENTS) {
            return new PerClient(0, "only " + clients + (clients == 1 ? " client" : " clients")
                    + ", too few to measure (at least " + MIN_CLIENTS + " needed)");
        }
        if (after < before) {
            return new PerClient(0, "the total shrank by " + (before - after) + " B while they connected");
        }
        return new PerClient((after - before) / clients, null);
    }

    boolean known() {
        return reason == null;
    }

    /** "1234 B", or "n/a (why)". */
    String text() {
        return known() ? bytes + " B" : "n/a (" + reason + ")";
    }
}
