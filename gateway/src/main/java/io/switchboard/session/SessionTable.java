package io.switchboard.session;

import java.util.function.Function;

/**
 * The registry's index {@code client id -> session}: lock-striped open-addressing hash tables holding only
 * references to the sessions (the key is the session's own id), so an entry costs about 8 heap bytes where a
 * {@link java.util.concurrent.ConcurrentHashMap} node and its slot cost about 32.
 *
 * <p>Thread-safe: each operation locks one of {@value #STRIPES} stripes for a few probes; reads lock too, which
 * keeps the code simple and is cheap next to the network work around every lookup.
 */
final class SessionTable {
    static final int STRIPES = 64;
    private static final int INITIAL_CAPACITY = 16;

    private final Stripe[] stripes = new Stripe[STRIPES];

    SessionTable() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    Session get(String id) {
        int h = spread(id.hashCode());
        Stripe s = stripeOf(h);
        synchronized (s) {
            int i = s.find(id, h);
            return i < 0 ? null : s.table[i];
        }
    }

    /** Inserts {@code session} unless its id is present; returns the present one, or {@code null} when inserted. */
    Session putIfAbsent(Session session) {
        String id = session.id();
        int h = spread(id.hashCode());
        Stripe s = stripeOf(h);
        synchronized (s) {
            int i = s.find(id, h);
            if (i >= 0) {
                return s.table[i];
            }
            s.insert(session, h);
            return null;
        }
    }

    /** The session for {@code id}, created by {@code factory} (under the stripe's lock) when absent. */
    Session computeIfAbsent(String id, Function<String, Session> factory) {
        int h = spread(id.hashCode());
        Stripe s = stripeOf(h);
        synchronized (s) {
            int i = s.find(id, h);
            if (i >= 0) {
                return s.table[i];
            }
            Session created = factory.apply(id);
            s.insert(created, h);
            return created;
        }
    }

    /** Removes {@code session} if it is the one held for its id. */
    boolean remove(Session session) {
        String id = session.id();
        int h = spread(id.hashCode());
        Stripe s = stripeOf(h);
        synchronized (s) {
            int i = s.find(id, h);
            if (i < 0 || s.table[i] != session) {
                return false;
            }
            s.delete(i);
            return true;
        }
    }

    private Stripe stripeOf(int spreadHash) {
        return stripes[spreadHash & (STRIPES - 1)];
    }

    int size() {
        int n = 0;
        for (Stripe s : stripes) {
            synchronized (s) {
                n += s.size;
            }
        }
        return n;
    }

    /** Spreads the String hash so that both the stripe (low bits) and the slot (high bits) get good bits. */
    static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        return h;
    }

    /** One lock's open-addressing table, linear probing, deletion by backward shift (no tombstones). */
    private static final class Stripe {
        Session[] table = new Session[INITIAL_CAPACITY];
        int size;

        int slot(int h, int mask) {
            return (h >>> 6) & mask;
        }

        int find(String id, int h) {
            Session[] t = table;
            int mask = t.length - 1;
            for (int i = slot(h, mask); ; i = (i + 1) & mask) {
                Session e = t[i];
                if (e == null) {
                    return -1;
                }
                if (e.id().equals(id)) {
                    return i;
                }
            }
        }

        void insert(Session session, int h) {
            if ((size + 1) * 4 > table.length * 3) {
                grow();
            }
            Session[] t = table;
            int mask = t.length - 1;
            int i = slot(h, mask);
            while (t[i] != null) {
                i = (i + 1) & mask;
            }
            t[i] = session;
            size++;
        }

        void delete(int removed) {
            Session[] t = table;
            int mask = t.length - 1;
            int hole = removed;
            int j = removed;
            while (true) {
                j = (j + 1) & mask;
                Session e = t[j];
                if (e == null) {
                    break;
                }
                int ideal = slot(spread(e.id().hashCode()), mask);
                // Move e into the hole unless its ideal slot lies cyclically in (hole, j].
                boolean stays = hole <= j ? (ideal > hole && ideal <= j) : (ideal > hole || ideal <= j);
                if (!stays) {
                    t[hole] = e;
                    hole = j;
                }
            }
            t[hole] = null;
            size--;
        }

        private void grow() {
            Session[] old = table;
            Session[] t = new Session[old.length * 2];
            int mask = t.length - 1;
            for (Session e : old) {
                if (e != null) {
                    int i = slot(spread(e.id().hashCode()), mask);
                    while (t[i] != null) {
                        i = (i + 1) & mask;
                    }
                    t[i] = e;
                }
            }
            table = t;
        }
    }
}
