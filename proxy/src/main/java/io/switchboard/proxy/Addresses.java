package io.switchboard.proxy;

import io.switchboard.options.CidrList;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** Parsing of the proxy's address options; every error is one line naming the option. Stateless. */
final class Addresses {
    /** More source addresses than this in one option is a typo, not a plan. */
    static final int MAX_SOURCES = 65_536;

    private Addresses() {}

    /** {@code HOST:PORT} or {@code [V6]:PORT}, resolved now. */
    static InetSocketAddress hostPort(String option, String text) {
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException(option + " wants HOST:PORT, not '" + text + "'");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = port(option, s.substring(colon + 1), text);
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(option + ": cannot resolve '" + host + "'");
        }
    }

    /** {@code 10.0.0.1:7000} or {@code [::1]:7000}: how addresses appear in logs and metric labels. */
    static String label(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** A comma-separated list of {@code HOST:PORT}. */
    static List<InetSocketAddress> hostPorts(String option, String text) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                out.add(hostPort(option, part));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(option + " needs at least one HOST:PORT");
        }
        return out;
    }

    /**
     * Source addresses: {@code ADDR[,ADDR|A-B...]}; a range is IPv4 {@code 127.0.0.2-127.0.0.9} or, shorter,
     * {@code 127.0.0.2-9} (last octet).
     */
    static List<InetAddress> sources(String option, String text) {
        List<InetAddress> out = new ArrayList<>();
        for (String raw : text.split(",")) {
            String part = raw.trim();
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            if (dash < 0) {
                out.add(literal(option, part));
                continue;
            }
            InetAddress from = literal(option, part.substring(0, dash));
            String toText = part.substring(dash + 1);
            InetAddress to = toText.contains(".") ? literal(option, toText)
                    : literal(option, lastOctetReplaced(from, toText, option));
            if (!(from instanceof Inet4Address) || !(to instanceof Inet4Address)) {
                throw new IllegalArgumentException(option + ": ranges are IPv4 only, not '" + part + "'");
            }
            long lo = v4(from);
            long hi = v4(to);
            if (hi < lo || hi - lo >= MAX_SOURCES) {
                throw new IllegalArgumentException(option + ": bad range '" + part + "'");
            }
            for (long a = lo; a <= hi; a++) {
                out.add(v4(a));
            }
        }
        if (out.isEmpty() || out.size() > MAX_SOURCES) {
            throw new IllegalArgumentException(option + " needs 1 to " + MAX_SOURCES + " addresses, not '" + text + "'");
        }
        return out;
    }

    /** {@code LO-HI}, both 1..65535, as {@code int[]{lo, hi}}. */
    static int[] portRange(String option, String text) {
        String s = text.trim();
        int dash = s.indexOf('-');
        if (dash <= 0) {
            throw new IllegalArgumentException(option + " wants LO-HI, not '" + text + "'");
        }
        int lo = port(option, s.substring(0, dash), text);
        int hi = port(option, s.substring(dash + 1), text);
        if (lo < 1 || hi < lo) {
            throw new IllegalArgumentException(option + " wants 1 <= LO <= HI <= 65535, not '" + text + "'");
        }
        return new int[] {lo, hi};
    }

    private static int port(String option, String digits, String whole) {
        try {
            int p = Integer.parseInt(digits.trim());
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // fall through to the one-line error
        }
        throw new IllegalArgumentException(option + ": bad port in '" + whole + "'");
    }

    /** An address literal only: a source or CIDR list must not trigger DNS lookups. */
    static InetAddress literal(String option, String text) {
        return CidrList.literal(option, text);
    }

    private static String lastOctetReplaced(InetAddress from, String octet, String option) {
        String f = from.getHostAddress();
        return f.substring(0, f.lastIndexOf('.') + 1) + octet.trim();
    }

    private static long v4(InetAddress a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
    }

    private static InetAddress v4(long a) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8),
                    (byte) a});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always a valid address
        }
    }
}
