package io.switchboard.loop;

import java.util.Arrays;

/**
 * A coarse hashed timing wheel with one-second ticks, one per event loop: deadlines for many thousands of
 * connections without a timer object per connection.
 *
 * <p>Entries remember their own slot and index, so scheduling and cancelling are O(1) with no allocation
 * beyond the growth of a slot's array. Deadlines are evaluated lazily: an entry's deadline is read only when
 * its slot comes round, so a connection can push its deadline forward on every read by writing one field,
 * and is moved to a later slot only when the old one fires. Deadlines further away than the wheel's span
 * go round again.
 *
 * <p>Not thread-safe: owned by one event loop (single writer), like everything in {@link LoopState}.
 */
public final class DeadlineWheel<E extends DeadlineWheel.Entry> {

    /** Something with a deadline, scheduled on at most one wheel at a time. */
    public interface Entry {
        /** Current deadline in wheel seconds; read when the entry's slot fires. */
        long deadlineSec();

        int wheelSlot();

        int wheelIndex();

        /** Remembers where the wheel keeps this entry; slot -1 means not scheduled. */
        void wheelPosition(int slot, int index);
    }

    /** Called for each entry whose deadline has passed; the entry is already unscheduled. */
    @FunctionalInterface
    public interface ExpiryHandler<E> {
        void onExpired(E entry, long nowSec);
    }

    private static final Entry[] EMPTY = new Entry[0];
    /** A slot's array larger than this is let go once the slot is emptied. */
    static final int KEEP_EMPTY_SLOT_ENTRIES = 64;

    private final int mask;
    private final Entry[][] slots;
    private final int[] sizes;
    private long cursorSec;
    private int scheduled;

    /**
     * @param slotCount number of one-second slots, a power of two (the span after which deadlines go round)
     * @param nowSec    the current time in seconds; the wheel starts processing from here
     */
    public DeadlineWheel(int slotCount, long nowSec) {
        if (Integer.bitCount(slotCount) != 1) {
            throw new IllegalArgumentException("slotCount must be a power of two: " + slotCount);
        }
        this.mask = slotCount - 1;
        this.slots = new Entry[slotCount][];
        Arrays.fill(slots, EMPTY);
        this.sizes = new int[slotCount];
        this.cursorSec = nowSec;
    }

    /** Schedules (or moves) {@code e} to fire once {@code deadlineSec} has passed. */
    public void schedule(E e, long deadlineSec) {
        if (e.wheelSlot() >= 0) {
            cancel(e);
        }
        insert(e, deadlineSec);
    }

    /** Removes {@code e} if scheduled; harmless otherwise. */
    public void cancel(E e) {
        int slot = e.wheelSlot();
        if (slot < 0) {
            return;
        }
        int index = e.wheelIndex();
        Entry[] entries = slots[slot];
        int last = --sizes[slot];
        if (index != last) {
            Entry moved = entries[last];
            entries[index] = moved;
            moved.wheelPosition(slot, index);
        }
        entries[last] = null;
        e.wheelPosition(-1, -1);
        scheduled--;
    }

    /**
     * Fires every entry whose deadline is at or before {@code nowSec}, at most {@code limit} of them; entries
     * whose deadline moved later are rescheduled, not fired. Returns how many fired. When the limit stops it,
     * the next call continues where this one left off.
     */
    @SuppressWarnings("unchecked")
    public int poll(long nowSec, ExpiryHandler<? super E> handler, int limit) {
        int fired = 0;
        while (cursorSec <= nowSec) {
            int slot = (int) (cursorSec & mask);
            Entry[] entries = slots[slot];
            while (sizes[slot] > 0) {
                if (fired >= limit) {
                    return fired;
                }
                int last = --sizes[slot];
                E e = (E) entries[last];
                entries[last] = null;
                e.wheelPosition(-1, -1);
                scheduled--;
                long deadline = e.deadlineSec();
                if (deadline <= nowSec) {
                    fired++;
                    handler.onExpired(e, nowSec);
                } else {
                    insert(e, deadline);
                }
                entries = slots[slot]; // the handler may have grown this slot's array
            }
            if (entries.length > KEEP_EMPTY_SLOT_ENTRIES) {
                // Emptied after a crowd (a reconnect storm's deadlines all in one second): its array goes, or each
                // slot such a crowd passed through would keep one of its peak size for good.
                slots[slot] = EMPTY;
            }
            cursorSec++;
        }
        return fired;
    }

    /** Entries the slots' arrays can hold now without growing (what the wheel's memory is), for tests. */
    int capacity() {
        int n = 0;
        for (Entry[] slot : slots) {
            n += slot.length;
        }
        return n;
    }

    /** Number of entries scheduled. */
    public int size() {
        return scheduled;
    }

    private void insert(E e, long deadlineSec) {
        // Never into the slot being processed: the earliest is the next tick; the latest one span ahead.
        long at = Math.max(deadlineSec, cursorSec + 1);
        at = Math.min(at, cursorSec + mask);
        int slot = (int) (at & mask);
        int size = sizes[slot];
        Entry[] entries = slots[slot];
        if (size == entries.length) {
            entries = Arrays.copyOf(entries, Math.max(8, size * 2));
            slots[slot] = entries;
        }
        entries[size] = e;
        sizes[slot] = size + 1;
        e.wheelPosition(slot, size);
        scheduled++;
    }
}
