package io.switchboard.bench;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for bench arguments: durations, HOST:PORT lists and source-address ranges. Stateless. */
final class BenchArgs {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");
    /** A range may hold at most this many addresses (a /16). */
    static final int MAX_RANGE = 65_536;

    private BenchArgs() {}

    /** {@code 500ms}, {@code 60s}, {@code 5m}, {@code 1h}; a bare number is seconds. */
    static Duration duration(String s) {
        Matcher m = DURATION.matcher(s.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + s + "' is not a duration: use e.g. 500ms, 60s, 5m, 1h");
        }
        long v = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(v);
            case "m" -> Duration.ofMinutes(v);
            case "h" -> Duration.ofHours(v);
            default -> Duration.ofSeconds(v);
        };
    }

    /** {@code host:port[,host:port...]}. */
    static List<InetSocketAddress> targets(String s) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String part : s.split(",")) {
            String p = part.trim();
            int colon = p.lastIndexOf(':');
            if (colon <= 0 || colon == p.length() - 1) {
                throw new IllegalArgumentException("--target '" + p + "' must be HOST:PORT");
            }
            int port;
            try {
                port = Integer.parseInt(p.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--target '" + p + "': port is not a number");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("--target '" + p + "': port must be 1-65535");
            }
            out.add(new InetSocketAddress(p.substring(0, colon), port));
        }
        return out;
    }

    /** {@code 127.0.0.2-127.0.0.50,10.1.1.1}: IPv4 ranges (inclusive) and single addresses, in order. */
    static List<InetAddress> sources(String s) {
        List<InetAddress> out = new ArrayList<>();
        if (s == null || s.isBlank()) {
            return out;
        }
        for (String part : s.split(",")) {
            String p = part.trim();
            int dash = p.indexOf('-');
            if (dash < 0) {
                out.add(address(p));
                continue;
            }
            long from = ipv4(p.substring(0, dash));
            long to = ipv4(p.substring(dash + 1));
            if (to < from) {
                throw new IllegalArgumentException("--source range '" + p + "' ends before it starts");
            }
            if (to - from + 1 > MAX_RANGE) {
                throw new IllegalArgumentException("--source range '" + p + "' has more than " + MAX_RANGE
                        + " addresses");
            }
            for (long a = from; a <= to; a++) {
                out.add(fromIpv4(a));
            }
        }
        return out;
    }

    /**
     * The inverse of {@link #sources(String)}: runs of consecutive IPv4 addresses become {@code a-b} ranges, so a
     * slice of a /16 stays a short argument.
     */
    static String formatSources(List<InetAddress> sources) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < sources.size()) {
            InetAddress a = sources.get(i);
            int j = i;
            if (a instanceof Inet4Address) {
                long first = ipv4(a);
                while (j + 1 < sources.size() && sources.get(j + 1) instanceof Inet4Address
                        && ipv4(sources.get(j + 1)) == first + (j + 1 - i)) {
                    j++;
                }
            }
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(a.getHostAddress());
            if (j > i) {
                sb.append('-').append(sources.get(j).getHostAddress());
            }
            i = j + 1;
        }
        return sb.toString();
    }

    private static long ipv4(InetAddress a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
    }

    private static InetAddress address(String p) {
        try {
            return InetAddress.getByName(p);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--source '" + p + "' is not an address");
        }
    }

    private static long ipv4(String p) {
        String[] o = p.trim().split("\\.");
        if (o.length != 4) {
            throw new IllegalArgumentException("--source '" + p + "' is not an IPv4 address");
        }
        long v = 0;
        for (String octet : o) {
            int n;
            try {
                n = Integer.parseInt(octet);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--source '" + p + "' is not an IPv4 address");
            }
            if (n < 0 || n > 255) {
                throw new IllegalArgumentException("--source '" + p + "' is not an IPv4 address");
            }
            v = (v << 8) | n;
        }
        return v;
    }

    private static InetAddress fromIpv4(long v) {
        byte[] b = {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
