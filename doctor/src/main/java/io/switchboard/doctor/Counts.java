package io.switchboard.doctor;

import java.util.Locale;

/** Saturating arithmetic and number formatting for reports. Stateless. */
final class Counts {
    /** Values at or above this are shown as "unlimited" (kernels use LONG_MAX-like sentinels). */
    static final long UNLIMITED = 1L << 60;

    private Counts() {
    }

    static long mul(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        if ((hi == 0 && lo >= 0) || (hi == -1 && lo < 0)) {
            return lo;
        }
        return (a < 0) == (b < 0) ? Long.MAX_VALUE : Long.MIN_VALUE;
    }

    static long add(long a, long b) {
        long r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    static long ceilDiv(long a, long b) {
        return Math.ceilDiv(a, b);
    }

    /** {@code 1,000,000}; "unlimited" for sentinel values. */
    static String count(long n) {
        if (n >= UNLIMITED) {
            return "unlimited";
        }
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** {@code 5.9 GiB}, {@code 144 KiB}, {@code 512 B}. */
    static String bytes(long n) {
        if (n >= UNLIMITED) {
            return "unlimited";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (u == 0) {
            return n + " B";
        }
        return (v >= 100 || v == Math.rint(v))
                ? String.format(Locale.ROOT, "%.0f %s", v, units[u])
                : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** A size for systemd, docker and -Xmx: whole GiB rounded up ({@code 3G}), or MiB below 1 GiB. */
    static String sizeArgument(long bytes, boolean lowerCase) {
        long mib = ceilDiv(bytes, 1L << 20);
        String s = mib >= 1024 ? ceilDiv(mib, 1024) + "G" : Math.max(1, mib) + "M";
        return lowerCase ? s.toLowerCase(Locale.ROOT) : s;
    }
}
