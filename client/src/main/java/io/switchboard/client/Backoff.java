package io.switchboard.client;

import java.util.random.RandomGenerator;

/**
 * Reconnect delays: exponential backoff with full jitter, {@code uniform(0, min(cap, base * 2^attempt))}, and
 * the server's {@code BYE ... retry=<ms>} plus a small jitter. Immutable; the caller supplies the random source.
 */
final class Backoff {
    /** Jitter added to a server-requested retry: up to a tenth of it, at most this much. */
    static final long MAX_RETRY_JITTER_MS = 1_000;

    private final long baseMs;
    private final long capMs;

    Backoff(long baseMs, long capMs) {
        if (baseMs < 1 || capMs < baseMs) {
            throw new IllegalArgumentException("need 1 <= base <= cap, got base=" + baseMs + " ms, cap=" + capMs + " ms");
        }
        this.baseMs = baseMs;
        this.capMs = capMs;
    }

    /** Upper bound of the delay before reconnect attempt {@code attempt} (0 = first after a loss). */
    long ceilingMs(int attempt) {
        if (attempt < 0) {
            throw new IllegalArgumentException("attempt < 0: " + attempt);
        }
        // base << attempt overflows once attempt reaches the number of leading zero bits of base.
        if (attempt >= Long.numberOfLeadingZeros(baseMs) - 1) {
            return capMs;
        }
        return Math.min(capMs, baseMs << attempt);
    }

    /** Full jitter: uniform in {@code [0, ceilingMs(attempt)]}. */
    long delayMs(int attempt, RandomGenerator random) {
        return random.nextLong(ceilingMs(attempt) + 1);
    }

    /** A server's {@code retry} beyond this is taken as this (a bad value must not stop reconnecting for good). */
    static final long MAX_RETRY_MS = 3_600_000;

    /**
     * The delay before attempt {@code attempt} after the server asked for {@code retryMs} (negative: it did not):
     * at least what it asked (at most {@link #MAX_RETRY_MS}), plus jitter, and no less than the backoff's own delay,
     * so that a client refused again and again (429) backs off further instead of coming back every second in step
     * with every other refused client.
     */
    long delayMs(int attempt, long retryMs, RandomGenerator random) {
        long backoffMs = delayMs(attempt, random);
        return retryMs < 0 ? backoffMs : Math.max(retryDelayMs(Math.min(retryMs, MAX_RETRY_MS), random), backoffMs);
    }

    /** The server's {@code retry} plus uniform jitter in {@code [0, min(retry / 10, 1 s)]}. */
    static long retryDelayMs(long retryMs, RandomGenerator random) {
        long jitter = Math.min(MAX_RETRY_JITTER_MS, retryMs / 10);
        return jitter == 0 ? retryMs : retryMs + random.nextLong(jitter + 1);
    }
}
