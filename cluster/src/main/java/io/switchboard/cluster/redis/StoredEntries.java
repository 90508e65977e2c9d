package io.switchboard.cluster.redis;

import io.switchboard.store.MessageStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads a client's stored messages as Redis keeps them: {@code seq:expiresAtMs:payload}, payload bytes as given. */
final class StoredEntries {
    private StoredEntries() {
    }

    /**
     * The unexpired messages among {@code entries} in seq order, each seq once, skipping any entry that is not of the
     * form above. The list is in seq order but for the pushes other nodes kept for a client while they took its node
     * for dead (appended among those its live session gave): a session must get them in order, or a client that
     * received a higher seq first takes the lower one for a duplicate.
     */
    static List<MessageStore.Stored> unexpired(List<?> entries, long nowMs) {
        List<MessageStore.Stored> kept = new ArrayList<>(entries.size());
        for (Object o : entries) {
            if (!(o instanceof byte[] e)) {
                continue;
            }
            int first = indexOf(e, 0);
            int second = first < 0 ? -1 : indexOf(e, first + 1);
            if (second < 0) {
                continue;
            }
            long seq = parse(e, 0, first);
            long expiresAtMs = parse(e, first + 1, second);
            if (seq <= 0 || expiresAtMs < 0 || expiresAtMs <= nowMs) {
                continue;
            }
            kept.add(new MessageStore.Stored(seq, expiresAtMs, Arrays.copyOfRange(e, second + 1, e.length)));
        }
        kept.sort(java.util.Comparator.comparingLong(MessageStore.Stored::seq));
        List<MessageStore.Stored> once = new ArrayList<>(kept.size());
        for (MessageStore.Stored m : kept) {
            if (once.isEmpty() || once.get(once.size() - 1).seq() != m.seq()) {
                once.add(m);
            }
        }
        return once;
    }

    private static int indexOf(byte[] e, int from) {
        for (int i = from; i < e.length && i < from + 20; i++) {
            if (e[i] == ':') {
                return i;
            }
        }
        return -1;
    }

    /** The decimal number in {@code e[from, to)}, or -1 when it is not one. */
    static long parse(byte[] e, int from, int to) {
        if (to <= from || to - from > 19) {
            return -1;
        }
        long n = 0;
        for (int i = from; i < to; i++) {
            int d = e[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            n = n * 10 + d;
        }
        return n;
    }

    /** A reply element (bytes of a decimal number, or a Long) as a long; -1 when it is neither. */
    static long number(Object o) {
        if (o instanceof Long n) {
            return n;
        }
        if (o instanceof byte[] b) {
            return parse(b, 0, b.length);
        }
        return -1;
    }
}
