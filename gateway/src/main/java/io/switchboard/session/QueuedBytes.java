package io.switchboard.session;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The budget of bytes queued (payloads, and each message's own cost) for all clients together, online and offline ({@code --max-queued-total}):
 * every {@link DeliveryQueue} adds what it takes in and gives back what leaves it, so the count is exact whichever
 * way a message goes (ack, expiry, drop on disconnect, resume, removal). Thread-safe and allocation-free: one
 * {@link AtomicLong} shared by every loop.
 */
public final class QueuedBytes {
    private final long maxBytes;
    private final AtomicLong used = new AtomicLong();

    QueuedBytes(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Takes {@code bytes} from the budget unless that would exceed it; false (nothing taken) when it would. */
    public boolean tryTake(long bytes) {
        long cur;
        do {
            cur = used.get();
            if (bytes > maxBytes - cur) {
                return false;
            }
        } while (!used.compareAndSet(cur, cur + bytes));
        return true;
    }

    /** Takes {@code bytes} whatever the budget (what a store kept across a restart is loaded whole). */
    void take(long bytes) {
        used.addAndGet(bytes);
    }

    public void give(long bytes) {
        used.addAndGet(-bytes);
    }

    /** True when {@code bytes} more would exceed the budget now; a cheap early answer, not a reservation. */
    boolean full(long bytes) {
        return bytes > maxBytes - used.get();
    }

    /** Bytes queued for all clients now (DeliveryQueue#cost). */
    public long usedBytes() {
        return used.get();
    }

    /** The budget, {@code --max-queued-total}. */
    public long maxBytes() {
        return maxBytes;
    }
}
