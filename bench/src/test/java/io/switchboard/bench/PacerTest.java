package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PacerTest {
    private static final long SEC = 1_000_000_000L;

    @Test
    void shouldSpaceEventsEvenlyAtAConstantRate() {
        Pacer p = new Pacer(1000, 0, () -> 0L);
        assertEquals(0, p.offsetNs(0));
        assertEquals(1_000_000, p.offsetNs(1));
        assertEquals(SEC, p.offsetNs(1000));
    }

    @Test
    void shouldGrowTheRateLinearlyDuringTheRampUpThenHoldIt() {
        // 100/s reached after 10 s: 500 events during the ramp, then 100 per second.
        Pacer p = new Pacer(100, 10 * SEC, () -> 0L);
        assertEquals(0, p.offsetNs(0));
        assertEquals(10 * SEC, p.offsetNs(500), 1_000);
        assertEquals(Math.sqrt(2 * 10.0 * 125 / 100) * 1e9, p.offsetNs(125), 1_000); // 5 s: a quarter of the ramp's events
        assertEquals(11 * SEC, p.offsetNs(600), 1_000);
        long early = p.offsetNs(10) - p.offsetNs(9);
        long late = p.offsetNs(490) - p.offsetNs(489);
        assertTrue(early > 5 * late, "gaps shrink as the rate grows: " + early + " vs " + late);
    }

    @Test
    void shouldWaitForTheIntendedTimeButNeverShiftTheScheduleWhenLate() {
        AtomicLong now = new AtomicLong(0);
        Pacer p = new Pacer(10, 0, now::get);
        now.set(5 * SEC); // far behind schedule: events 0..50 are all due
        assertEquals(5 * SEC, p.awaitTurn(3));
        assertEquals(5 * SEC, p.awaitTurn(50));
        assertEquals(5_100_000_000L, p.offsetNs(51), "event 51 is still due at 5.1 s from the start");
    }

    @Test
    void shouldRefuseANonPositiveRate() {
        assertThrows(IllegalArgumentException.class, () -> new Pacer(0, 0, () -> 0L));
    }
}
