package io.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private final Backoff backoff = new Backoff(1_000, 60_000);

    @Test
    void shouldDoubleTheCeilingPerAttemptUpToTheCap() {
        long[] expected = {1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000};
        for (int attempt = 0; attempt < expected.length; attempt++) {
            assertEquals(expected[attempt], backoff.ceilingMs(attempt), "attempt " + attempt);
            assertEquals(expected[attempt], backoff.delayMs(attempt, new FixedRandom(1.0)), "top of the range");
            assertEquals(0, backoff.delayMs(attempt, new FixedRandom(0.0)), "bottom of the range");
        }
    }

    @Test
    void shouldNotOverflowForHugeAttemptCounts() {
        for (int attempt : new int[] {52, 53, 54, 62, 63, 64, 1_000, Integer.MAX_VALUE}) {
            assertEquals(60_000, backoff.ceilingMs(attempt), "attempt " + attempt);
        }
        Backoff wide = new Backoff(1, Long.MAX_VALUE / 2);
        assertEquals(1L << 61, wide.ceilingMs(61));
        assertEquals(Long.MAX_VALUE / 2, wide.ceilingMs(62));
    }

    @Test
    void shouldSpreadDelaysUniformlyOverTheWholeRange() {
        SplittableRandom random = new SplittableRandom(42);
        int samples = 20_000;
        long sum = 0;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < samples; i++) {
            long d = backoff.delayMs(3, random);
            sum += d;
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        assertTrue(min >= 0 && min < 100, "min " + min);
        assertTrue(max <= 8_000 && max > 7_900, "max " + max);
        double mean = (double) sum / samples;
        assertTrue(Math.abs(mean - 4_000) < 100, "mean " + mean);
    }

    @Test
    void shouldHonourServerRetryWithSmallJitter() {
        assertEquals(5_000, Backoff.retryDelayMs(5_000, new FixedRandom(0.0)));
        assertEquals(5_500, Backoff.retryDelayMs(5_000, new FixedRandom(1.0)), "a tenth of retry at most");
        assertEquals(31_000, Backoff.retryDelayMs(30_000, new FixedRandom(1.0)), "never more than 1 s of jitter");
        assertEquals(0, Backoff.retryDelayMs(0, new FixedRandom(1.0)));
        assertEquals(9, Backoff.retryDelayMs(9, new FixedRandom(1.0)));
    }

    @Test
    void shouldWaitAtLeastWhatTheServerAskedAndBackOffFurtherWhenRefusedAgain() {
        FixedRandom top = new FixedRandom(1.0);
        assertEquals(5_500, backoff.delayMs(0, 5_000, top), "the server's retry when the backoff is shorter");
        assertEquals(32_000, backoff.delayMs(5, 1_000, top), "the backoff when a client is refused again and again");
        assertEquals(1_000, backoff.delayMs(0, -1, top), "no retry asked: the backoff");
        assertEquals(3_601_000, backoff.delayMs(0, 100_000_000_000_000_000L, top), "an absurd retry is capped");
    }

    @Test
    void shouldRejectInvalidSettings() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(0, 10));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(10, 5));
        assertThrows(IllegalArgumentException.class, () -> backoff.ceilingMs(-1));
    }
}
