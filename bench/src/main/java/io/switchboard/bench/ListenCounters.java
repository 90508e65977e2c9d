package io.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel's accept-queue counters from {@code /proc/net/netstat} ({@code TcpExt: ListenOverflows ListenDrops}):
 * connections the listening side dropped because its accept queue was full (or for other listen-time reasons).
 * Machine-wide (per network namespace), so they include every server on this host. Immutable.
 *
 * @param overflows TcpExt ListenOverflows; -1 when unreadable
 * @param drops TcpExt ListenDrops; -1 when unreadable
 */
record ListenCounters(long overflows, long drops) {
    static final ListenCounters UNKNOWN = new ListenCounters(-1, -1);
    static final ListenCounters ZERO = new ListenCounters(0, 0);

    static ListenCounters read() {
        return read(Path.of("/proc/net/netstat"));
    }

    static ListenCounters read(Path netstat) {
        try {
            return parse(Files.readAllLines(netstat));
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
    }

    /** Finds the {@code TcpExt:} header line and the value line after it. */
    static ListenCounters parse(List<String> lines) {
        for (int i = 0; i + 1 < lines.size(); i++) {
            String header = lines.get(i);
            String values = lines.get(i + 1);
            if (header.startsWith("TcpExt:") && values.startsWith("TcpExt:")) {
                String[] names = header.trim().split("\\s+");
                String[] nums = values.trim().split("\\s+");
                long overflows = -1;
                long drops = -1;
                for (int k = 1; k < names.length && k < nums.length; k++) {
                    if (names[k].equals("ListenOverflows")) {
                        overflows = Long.parseLong(nums[k]);
                    } else if (names[k].equals("ListenDrops")) {
                        drops = Long.parseLong(nums[k]);
                    }
                }
                return new ListenCounters(overflows, drops);
            }
        }
        return UNKNOWN;
    }

    boolean known() {
        return overflows >= 0 && drops >= 0;
    }

    /** This minus an earlier reading; UNKNOWN when either is. */
    ListenCounters minus(ListenCounters earlier) {
        if (!known() || !earlier.known()) {
            return UNKNOWN;
        }
        return new ListenCounters(overflows - earlier.overflows, drops - earlier.drops);
    }

    /** The larger of each counter (for peaks of per-second deltas). */
    ListenCounters max(ListenCounters other) {
        if (!known()) {
            return other;
        }
        if (!other.known()) {
            return this;
        }
        return new ListenCounters(Math.max(overflows, other.overflows), Math.max(drops, other.drops));
    }

    @Override
    public String toString() {
        return known() ? "ListenOverflows " + overflows + ", ListenDrops " + drops : "unreadable (/proc/net/netstat)";
    }
}
