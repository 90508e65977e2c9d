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

    /** The server's {@code retry} plus uniform jitter in {@code [0, min(retry / 10, 1 s)]}. */
    static long retryDelayMs(long retryMs, RandomGenerator random) {
        long jitter = Math.min(MAX_RETRY_JITTER_MS, retryMs / 10);
        return jitter == 0 ? retryMs : retryMs + random.nextLong(jitter + 1);
    }
}
