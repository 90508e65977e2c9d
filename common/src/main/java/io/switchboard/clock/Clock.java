package io.switchboard.clock;

/**
 * Time, injected so tests drive it instead of sleeping. {@link #nowMs()} is wall-clock time (message expiry,
 * timestamps, seq origins); {@link #monotonicNs()} never jumps and drives deadlines (handshake and idle timeouts),
 * so a wall-clock step cannot time out every client at once. Thread-safe.
 */
@FunctionalInterface
public interface Clock {
    long nowMs();

    /** Monotonic nanoseconds (an arbitrary origin); a clock built from a lambda uses {@link System#nanoTime()}. */
    default long monotonicNs() {
        return System.nanoTime();
    }

    Clock SYSTEM = System::currentTimeMillis;
}
