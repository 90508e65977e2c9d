package io.switchboard.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The per-address limits count an IPv6 client per /64: one device cannot pass them by changing its address. */
class SourceKeyTest {
    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void shouldCountTheAddressesOfOneIpv6NetworkAgainstOneLimit() throws Exception {
        ConnectionGuard guard = new ConnectionGuard(100, 2, 0, () -> 0L);
        assertNull(guard.tryAcquire(ip("2001:db8:1:2::1")));
        assertNull(guard.tryAcquire(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        assertEquals(ConnectionGuard.Refused.PER_IP_LIMIT, guard.tryAcquire(ip("2001:db8:1:2:abcd::7")),
                "a third address of the same /64");
        assertNull(guard.tryAcquire(ip("2001:db8:1:3::1")), "another /64");
        assertEquals(2, guard.trackedAddresses());
        // Released under the same key: the /64 admits again, and leaves the table when it has none open.
        guard.release(ip("2001:db8:1:2::1"));
        assertNull(guard.tryAcquire(ip("2001:db8:1:2::99")));
        guard.release(ip("2001:db8:1:2::99"));
        guard.release(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        guard.release(ip("2001:db8:1:3::1"));
        assertEquals(0, guard.trackedAddresses());
        assertEquals(0, guard.open());
    }

    @Test
    void shouldKeepCountingIpv4PerAddress() throws Exception {
        ConnectionGuard guard = new ConnectionGuard(100, 1, 0, () -> 0L);
        assertNull(guard.tryAcquire(ip("192.0.2.1")));
        assertNull(guard.tryAcquire(ip("192.0.2.2")));
        assertEquals(ConnectionGuard.Refused.PER_IP_LIMIT, guard.tryAcquire(ip("192.0.2.1")));
        assertEquals(ip("192.0.2.1"), SourceKey.of(ip("::ffff:192.0.2.1")), "an IPv4-mapped address is IPv4");
        // Also as an Inet6Address, which InetAddress.getByName never makes of it.
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 7};
        assertEquals(ip("192.0.2.7"), SourceKey.of(java.net.Inet6Address.getByAddress(null, mapped, -1)));
    }

    @Test
    void shouldRateTheAddressesOfOneIpv6NetworkTogether() throws Exception {
        AddressRate rate = new AddressRate(2);
        assertTrue(rate.tryAcquire(ip("2001:db8::1"), 5));
        assertTrue(rate.tryAcquire(ip("2001:db8::2"), 5));
        assertFalse(rate.tryAcquire(ip("2001:db8::3"), 5), "a third new connection of the /64 in one second");
        assertTrue(rate.tryAcquire(ip("2001:db8:0:1::3"), 5), "another /64");
        assertEquals(2, rate.trackedAddresses());
    }
}
