package io.switchboard.doctor;

import java.util.Set;

/** Maps sysctl names to {@code /proc/sys} paths and knows which are host-wide. Stateless. */
final class Sysctls {
    /** Not per network namespace: a container can only change them on the host. */
    private static final Set<String> HOST_WIDE_NET = Set.of("net.ipv4.tcp_mem", "net.netfilter.nf_conntrack_max");

    private Sysctls() {
    }

    /** {@code fs.nr_open} → {@code /proc/sys/fs/nr_open}. */
    static String path(String name) {
        return "/proc/sys/" + name.replace('.', '/');
    }

    /** Whether the setting belongs to the whole host rather than one network namespace. */
    static boolean hostWide(String name) {
        return !name.startsWith("net.") || HOST_WIDE_NET.contains(name);
    }
}
