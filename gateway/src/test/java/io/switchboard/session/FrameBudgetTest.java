package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The per-client frame budget ({@code --client-rate}): kept by the session, counted in its owner loop's seconds. */
class FrameBudgetTest {
    private static final int RATE = 5;
    private static final int BURST = 10;

    @Test
    void aFullBurstIsSpentThenRefilledByTheRateEachSecond() {
        Session s = new Session("c", null, Session.OFFLINE, 0, 0);
        for (int i = 0; i < BURST; i++) {
            assertTrue(s.spendFrame(100, RATE, BURST), "frame " + i);
        }
        assertFalse(s.spendFrame(100, RATE, BURST));
        for (int i = 0; i < RATE; i++) {
            assertTrue(s.spendFrame(101, RATE, BURST), "refilled frame " + i);
        }
        assertFalse(s.spendFrame(101, RATE, BURST));
        assertEquals(1, s.overBudgetSeconds());
    }

    @Test
    void aSecondCountedByAnotherLoopThatIsBehindTakesNothingAway() {
        // A takeover moves the session to another loop, whose coarse clock may still show the second before.
        Session s = new Session("c", null, Session.OFFLINE, 0, 0);
        for (int i = 0; i < 3; i++) {
            assertTrue(s.spendFrame(100, RATE, BURST));
        }
        assertTrue(s.frameBudgetLeft(99, RATE, BURST), "7 frames were left; a second behind is no reason to throttle");
        for (int i = 0; i < 7; i++) {
            assertTrue(s.spendFrame(99, RATE, BURST), "frame " + i + " of the 7 left");
        }
        assertFalse(s.spendFrame(99, RATE, BURST));
        assertTrue(s.spendFrame(100, RATE, BURST), "the next second refills as usual");
    }
}
