package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Reading the kernel's accept-queue counters from /proc/net/netstat. */
class ListenCountersTest {
    private static List<String> netstat(long overflows, long drops) {
        return List.of(
                "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPBacklogDrop",
                "TcpExt: 0 0 " + overflows + " " + drops + " 3",
                "IpExt: InNoRoutes InTruncatedPkts",
                "IpExt: 0 0");
    }

    @Test
    void shouldReadListenOverflowsAndDropsFromTcpExt() {
        ListenCounters c = ListenCounters.parse(netstat(12, 14));
        assertEquals(new ListenCounters(12, 14), c);
        assertEquals("ListenOverflows 12, ListenDrops 14", c.toString());
    }

    @Test
    void shouldSubtractReadingsAndKeepPeaks() {
        ListenCounters before = ListenCounters.parse(netstat(10, 11));
        ListenCounters after = ListenCounters.parse(netstat(110, 121));
        assertEquals(new ListenCounters(100, 110), after.minus(before));
        assertEquals(new ListenCounters(100, 7), new ListenCounters(100, 2).max(new ListenCounters(3, 7)));
        assertEquals(new ListenCounters(3, 7), ListenCounters.UNKNOWN.max(new ListenCounters(3, 7)));
    }

    @Test
    void shouldSayUnreadableRatherThanInventZeros() {
        ListenCounters none = ListenCounters.parse(List.of("IpExt: A B", "IpExt: 1 2"));
        assertFalse(none.known());
        assertFalse(none.minus(ListenCounters.ZERO).known());
        assertTrue(none.toString().contains("unreadable"));
        assertFalse(ListenCounters.read(java.nio.file.Path.of("/nonexistent/netstat")).known());
    }
}
