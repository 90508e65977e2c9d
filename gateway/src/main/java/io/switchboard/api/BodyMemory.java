package io.switchboard.api;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The request bodies the API holds while they arrive, all connections and HTTP/2 streams together, against
 * {@code --api-max-body-memory}: each connection may gather a body of up to 64 MiB, and a thousand of them (or of
 * one connection's streams) at once would take far more memory than the process has. Thread-safe.
 */
final class BodyMemory {
    private final AtomicLong held = new AtomicLong();
    private final long max;

    BodyMemory(long max) {
        this.max = max;
    }

    /** Takes {@code bytes} if they fit; false (and nothing taken) when they would go past the maximum. */
    boolean take(long bytes) {
        long now;
        do {
            now = held.get();
            if (now + bytes > max) {
                return false;
            }
        } while (!held.compareAndSet(now, now + bytes));
        return true;
    }

    /** Whether {@code bytes} fit now (nothing taken). */
    boolean fits(long bytes) {
        return held.get() + bytes <= max;
    }

    void give(long bytes) {
        held.addAndGet(-bytes);
    }

    /** Bytes of bodies being gathered now. */
    long held() {
        return held.get();
    }

    long max() {
        return max;
    }
}
