package io.switchboard.session;

import java.util.Arrays;
import java.util.function.Predicate;

/**
 * A session's messages not yet acknowledged, in seq order, with how many of them are written to the current
 * connection. Exists only while a session has messages queued, so an idle session costs one null field. Every
 * payload byte that enters or leaves it is counted in the shared {@link QueuedBytes} budget, here and nowhere else.
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

    Message first() {
        return size == 0 ? null : items[head];
    }

    /** Appends {@code m} if the shared budget has room for its payload; false, changing nothing, when it has not. */
    boolean offer(Message m) {
        if (!total.tryTake(m.payload().length)) {
            return false;
        }
        append(m);
        return true;
    }

    /** Appends {@code m} whatever the shared budget (what a store kept across a restart is loaded whole). */
    void add(Message m) {
        total.take(m.payload().length);
        append(m);
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
        bytes += m.payload().length;
    }

    Message removeFirst() {
        Message m = items[head];
        items[head] = null;
        head = (head + 1) & (items.length - 1);
        size--;
        bytes -= m.payload().length;
        total.give(m.payload().length);
        if (sentCount > 0) {
            sentCount--;
        }
        return m;
    }

    /** Removes every message matching {@code drop}, keeping order and the in-flight count right; returns how many. */
    int removeIf(Predicate<Message> drop) {
        int removed = 0;
        long removedBytes = 0;
        int kept = 0;
        int sentKept = 0;
        Message[] compact = new Message[items.length];
        for (int i = 0; i < size; i++) {
            Message m = get(i);
            if (drop.test(m)) {
                removedBytes += m.payload().length;
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
        total.give(removedBytes);
        return removed;
    }
}
