package io.switchboard.limits;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * What the per-source-address limits count a connection against: an IPv4 address, or the /64 network of an IPv6
 * one. One IPv6 host (a home, a phone, a server) is given a whole /64 and may use any address in it, as many as it
 * likes: counted per address, a single device could open unlimited connections (each from a new address) past
 * {@code --max-connections-per-ip}, and fill the tables of the limits with entries. A /64 is to IPv6 what one IPv4
 * address behind a NAT is.
 */
public final class SourceKey {
    private SourceKey() {
    }

    /**
     * {@code ip} itself when IPv4 (or null), the IPv4 address an IPv4-mapped one ({@code ::ffff:a.b.c.d}) stands for,
     * else its /64 network (the rest of its bits zero, no scope).
     */
    public static InetAddress of(InetAddress ip) {
        if (!(ip instanceof Inet6Address)) {
            return ip;
        }
        byte[] b = ip.getAddress();
        try {
            if (isIpv4Mapped(b)) {
                return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
            }
            Arrays.fill(b, 8, 16, (byte) 0);
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 or 16 bytes are always an address
        }
    }

    private static boolean isIpv4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }
}
