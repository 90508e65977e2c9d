package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Per-client costs are a figure only when enough clients made a total grow. */
class PerClientTest {
    @Test
    void shouldDivideTheGrowthByTheClients() {
        PerClient per = PerClient.of(1_000_000, 1_400_000, 100);
        assertTrue(per.known());
        assertEquals(4_000, per.bytes());
        assertEquals("4000 B", per.text());
    }

    @Test
    void shouldSayNotApplicableInsteadOfANegativeFigureWhenTheTotalShrank() {
        PerClient per = PerClient.of(50_000_000, 45_419_100, 100);
        assertFalse(per.known());
        assertTrue(per.text().startsWith("n/a (the total shrank by 4580900 B"), per.text());
    }

    @Test
    void shouldNotDivideByZeroConnections() {
        PerClient per = PerClient.of(100, 36_589_668, 0);
        assertFalse(per.known());
        assertEquals("n/a (no clients connected)", per.text());
    }

    @Test
    void shouldSayNotApplicableWithTooFewClientsForTheProcessNoise() {
        PerClient per = PerClient.of(1_000, 9_000, 1);
        assertFalse(per.known());
        assertEquals("n/a (only 1 client, too few to measure (at least 100 needed))", per.text());
        assertFalse(PerClient.of(-1, 9_000, 1_000).known(), "a total that was not read");
    }
}
