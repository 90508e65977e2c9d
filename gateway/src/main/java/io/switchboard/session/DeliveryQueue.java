package io.switchboard.session;

import java.util.Arrays;
import java.util.function.Predicate;

/**
 * A session's messages not yet acknowledged, in seq order, with how many of them are written to the current
 * connection. Exists only while a session has messages queued, so an idle session costs one null field. Every
 * message that enters or leaves it is counted in the shared {@link QueuedBytes} budget ({@link #cost}), here and
 * nowhere else.
 * Owned by the session's loop; not thread-safe.
 */
final class DeliveryQueue {
    private Message[] items = new Message[4];
    private int head;
    private int size;
    /** Messages at the head already written to the current connection (in flight). */
    int sentCount;
    /** Seq of the last message written (or skipped as expired) on the current connection. */
    long lastSentSeq;
    /** Seq of the last message written to any connection of the session (those up to it are sent again). */
    long writtenUpTo;
    long bytes;
    /** No scan for expired unsent messages before this (epoch ms): at most one a second when pushes find no room. */
    long nextExpiryScanMs;
    private final QueuedBytes total;

    DeliveryQueue(long lastSentSeq, QueuedBytes total) {
        this.lastSentSeq = lastSentSeq;
        this.total = total;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    Message get(int i) {
        return items[(head + i) & (items.length - 1)];
    }

    /** Puts {@code m} in place of message {@code i} (the same seq, payload and cost: the budget is unchanged). */
    void replace(int i, Message m) {
        items[(head + i) & (items.length - 1)] = m;
    }

    Message first() {
        return size == 0 ? null : items[head];
    }

    /**
     * Heap a queued message costs beyond its payload: the {@link Message} (40 bytes with compact headers), its slot
     * here (doubled as the array grows), a stored message's entry in the store's index. Counted so that many small
     * or empty messages are bounded by {@code --max-queued-total} too, not only large ones.
     */
    static final int MESSAGE_OVERHEAD_BYTES = io.switchboard.service.PushService.QUEUED_MESSAGE_OVERHEAD_BYTES;

    /**
     * What {@code m} takes from the shared budget beyond a shared payload: its own payload (none when shared) and
     * {@link #MESSAGE_OVERHEAD_BYTES}. A shared payload ({@link SharedPayload}) is counted once while any of its
     * messages is queued (a broadcast to 20,000 clients holds one 64 KiB array, not 20,000: counted per recipient, it
     * refused most of them for a budget the heap did not use).
     */
    static long cost(Message m) {
        return MESSAGE_OVERHEAD_BYTES + (m.share() != null ? 0 : m.bytes());
    }

    /** Appends {@code m} if the shared budget has room for it; false, changing nothing, when it has not. */
    boolean offer(Message m) {
        if (m.share() != null ? !m.share().take(total, cost(m)) : !total.tryTake(cost(m))) {
            return false;
        }
        append(m);
        return true;
    }

    /** Appends {@code m} whatever the shared budget (what a store kept across a restart is loaded whole). */
    void add(Message m) {
        if (m.share() != null) {
            m.share().takeAnyway(total, cost(m));
        } else {
            total.take(cost(m));
        }
        append(m);
    }

    /** What {@code m}, leaving, gives back to the budget (a shared payload's with its last holder). */
    private static long released(Message m) {
        return m.share() != null ? m.share().release(cost(m)) : cost(m);
    }

    private void append(Message m) {
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
        bytes += m.bytes();
    }

    Message removeFirst() {
        Message m = items[head];
        items[head] = null;
        head = (head + 1) & (items.length - 1);
        size--;
        bytes -= m.bytes();
        total.give(released(m));
        if (sentCount > 0) {
            sentCount--;
        }
        return m;
    }

    /** Removes every message matching {@code drop}, keeping order and the in-flight count right; returns how many. */
    int removeIf(Predicate<Message> drop) {
        int first = 0;
        while (first < size && !drop.test(get(first))) {
            first++;
        }
        if (first == size) {
            return 0; // nothing to remove (the offline sweep's usual case): no new array
        }
        int removed = 0;
        long removedBytes = 0;
        long removedCost = 0;
        int kept = 0;
        int sentKept = 0;
        Message[] compact = new Message[items.length];
        for (int i = 0; i < size; i++) {
            Message m = get(i);
            // Each message tested once (a counting predicate counts right): those before the first match were.
            if (i >= first && (i == first || drop.test(m))) {
                removedBytes += m.bytes();
                removedCost += released(m);
                removed++;
            } else {
                if (i < sentCount) {
                    sentKept++;
                }
                compact[kept++] = m;
            }
        }
        Arrays.fill(items, null);
        items = compact;
        head = 0;
        size = kept;
        sentCount = sentKept;
        bytes -= removedBytes;
        total.give(removedCost);
        return removed;
    }
}
