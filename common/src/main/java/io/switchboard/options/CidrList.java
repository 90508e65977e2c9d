package io.switchboard.options;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * A list of address blocks ({@code 10.0.0.0/8,::1/128,192.0.2.7}) and whether an address falls in one.
 * Shared by the proxy ({@code --allow}, {@code --deny}) and the gateway ({@code --accept-proxy-from}).
 * Immutable and thread-safe; a lookup allocates nothing beyond {@link InetAddress#getAddress()}'s copy.
 */
public final class CidrList {
    public static final CidrList EMPTY = new CidrList(new byte[0][], new int[0]);

    private final byte[][] networks;
    private final int[] prefixBits;

    private CidrList(byte[][] networks, int[] prefixBits) {
        this.networks = networks;
        this.prefixBits = prefixBits;
    }

    /** Parses a comma-separated list; null or blank is the empty list. */
    public static CidrList parse(String option, String text) {
        if (text == null || text.isBlank()) {
            return EMPTY;
        }
        List<byte[]> nets = new ArrayList<>();
        List<Integer> bits = new ArrayList<>();
        for (String raw : text.split(",")) {
            String part = raw.trim();
            if (part.isEmpty()) {
                continue;
            }
            int slash = part.indexOf('/');
            InetAddress a = literal(option, slash < 0 ? part : part.substring(0, slash));
            byte[] addr = a.getAddress();
            int max = addr.length * 8;
            int prefix = max;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(part.substring(slash + 1).trim());
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > max) {
                    throw new IllegalArgumentException(option + ": bad prefix length in '" + part + "'");
                }
            }
            nets.add(mask(addr, prefix));
            bits.add(prefix);
        }
        return new CidrList(nets.toArray(new byte[0][]), bits.stream().mapToInt(Integer::intValue).toArray());
    }

    public boolean isEmpty() {
        return networks.length == 0;
    }

    public int size() {
        return networks.length;
    }

    public boolean contains(InetAddress address) {
        if (networks.length == 0 || address == null) {
            return false;
        }
        byte[] a = address.getAddress();
        for (int i = 0; i < networks.length; i++) {
            if (networks[i].length == a.length && matches(networks[i], prefixBits[i], a)) {
                return true;
            }
        }
        return false;
    }

    /** An IP address literal ({@code 10.0.0.1}, {@code ::1}, {@code [::1]}), never a name to resolve. */
    public static InetAddress literal(String option, String text) {
        String s = text.trim();
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        boolean looksLiteral = !s.isEmpty() && (s.indexOf(':') >= 0 || s.chars().allMatch(c -> c == '.'
                || (c >= '0' && c <= '9')));
        if (looksLiteral) {
            try {
                return InetAddress.getByName(s);
            } catch (UnknownHostException e) {
                // fall through
            }
        }
        throw new IllegalArgumentException(option + ": '" + text + "' is not an IP address");
    }

    private static boolean matches(byte[] net, int prefix, byte[] a) {
        int full = prefix >>> 3;
        for (int i = 0; i < full; i++) {
            if (net[i] != a[i]) {
                return false;
            }
        }
        int rest = prefix & 7;
        if (rest == 0) {
            return true;
        }
        int m = (0xff << (8 - rest)) & 0xff;
        return (net[full] & m) == (a[full] & m);
    }

    private static byte[] mask(byte[] addr, int prefix) {
        byte[] out = addr.clone();
        for (int bit = prefix; bit < out.length * 8; bit++) {
            out[bit >>> 3] &= (byte) ~(0x80 >>> (bit & 7));
        }
        return out;
    }
}
