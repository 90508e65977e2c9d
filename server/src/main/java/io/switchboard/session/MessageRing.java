package io.switchboard.session;

import java.util.Arrays;
import java.util.function.Predicate;

/** A growable ring of messages in seq order with indexed access. Owned by one session's loop; not thread-safe. */
final class MessageRing {
    private Message[] items = new Message[4];
    private int head;
    private int size;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    Message get(int i) {
        return items[(head + i) & (items.length - 1)];
    }

    Message first() {
        return size == 0 ? null : items[head];
    }

    void add(Message m) {
        if (size == items.length) {
            Message[] bigger = new Message[items.length * 2];
            for (int i = 0; i < size; i++) {
                bigger[i] = get(i);
            }
            items = bigger;
            head = 0;
        }
        items[(head + size) & (items.length - 1)] = m;
        size++;
    }

    Message removeFirst() {
        Message m = items[head];
        items[head] = null;
        head = (head + 1) & (items.length - 1);
        size--;
        return m;
    }

    /** Removes every message matching {@code drop}, keeping order; returns the removed payload bytes. */
    long removeIf(Predicate<Message> drop, int[] removedCount) {
        long bytes = 0;
        int kept = 0;
        Message[] compact = new Message[items.length];
        for (int i = 0; i < size; i++) {
            Message m = get(i);
            if (drop.test(m)) {
                bytes += m.payload().length;
                removedCount[0]++;
            } else {
                compact[kept++] = m;
            }
        }
        Arrays.fill(items, null);
        items = compact;
        head = 0;
        size = kept;
        return bytes;
    }
}
