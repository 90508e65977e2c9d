package io.switchboard.upstream;

import java.util.random.RandomGenerator;

/**
 * Delays between a webhook batch's attempts: exponential from {@code retryBaseMs}, capped at {@code retryCapMs},
 * jittered into {@code [d/2, d]}. Confined to the owner thread, like its random source.
 */
final class WebhookBackoff {
    private final long baseMs;
    private final long capMs;
    private final RandomGenerator jitter;

    WebhookBackoff(long baseMs, long capMs, RandomGenerator jitter) {
        this.baseMs = baseMs;
        this.capMs = capMs;
        this.jitter = jitter;
    }

    /** Delay after the {@code attempts}-th failure: base·2^(attempts-1), capped, jittered into [d/2, d]. */
    long delayMs(int attempts) {
        int shift = Math.min(attempts - 1, 30);
        long d = Math.min(capMs, baseMs << shift);
        if (d <= 0 || d > capMs) {
            d = capMs;
        }
        long half = d / 2;
        return half + jitter.nextLong(d - half + 1);
    }
}
