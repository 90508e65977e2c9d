package io.switchboard.doctor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fake {@code /} with the {@code /proc} and {@code /sys} files the doctor reads. It starts as a
 * roomy host (root with every capability, no container, no caps near a million connections) so a
 * test lowers exactly the limit it is about.
 */
final class FixtureTree {
    static final String FULL_CAPS = "000001ffffffffff";
    static final String NO_SYS_RESOURCE = "000001fffeffffff";
    static final long GIB = 1L << 30;

    final Path root;

    FixtureTree(Path root) {
        this.root = root;
        limits("self", 4_000_000, 4_000_000);
        status("self", 0, FULL_CAPS, FULL_CAPS);
        write("/proc/self/mountinfo", """
                22 27 0:21 / /proc rw,relatime - proc proc rw
                27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
                """);
        write(Mount.MOUNTS, """
                /dev/vda / ext4 rw,relatime 0 0
                proc /proc proc rw,relatime 0 0
                """);
        write("/proc/self/uid_map", "         0          0 4294967295\n");
        write("/proc/self/cgroup", "0::/user.slice/session-1.scope\n");
        write("/proc/1/cgroup", "0::/init.scope\n");
        sysctl("fs.nr_open", "1073741816");
        sysctl("fs.file-max", "9223372036854775807");
        sysctl("fs.file-nr", "1024\t0\t9223372036854775807");
        sysctl("fs.epoll.max_user_watches", "100000000");
        sysctl("net.ipv4.ip_local_port_range", "32768\t60999");
        sysctl("net.ipv4.ip_local_reserved_ports", "");
        sysctl("net.ipv4.tcp_tw_reuse", "2");
        sysctl("net.core.somaxconn", "65535");
        sysctl("net.ipv4.tcp_max_syn_backlog", "65535");
        sysctl("net.ipv4.tcp_syncookies", "1");
        sysctl("net.ipv4.tcp_mem", "6000000\t8000000\t12000000");
        sysctl("net.ipv4.tcp_rmem", "4096\t131072\t6291456");
        sysctl("net.ipv4.tcp_wmem", "4096\t16384\t4194304");
        sysctl("kernel.osrelease", "6.8.0-45-generic");
        sysctl("kernel.io_uring_disabled", "0");
        memInfo(64 * GIB, 60 * GIB);
        write("/proc/self/net/netstat", """
                TcpExt: SyncookiesSent ListenOverflows ListenDrops
                TcpExt: 0 0 0
                """);
    }

    FixtureTree write(String absolutePath, String content) {
        try {
            Path file = root.resolve(absolutePath.substring(1));
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    FixtureTree delete(String absolutePath) {
        try {
            Files.deleteIfExists(root.resolve(absolutePath.substring(1)));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    FixtureTree sysctl(String name, String value) {
        return write(Sysctls.path(name), value + "\n");
    }

    FixtureTree sysctl(String name, long value) {
        return sysctl(name, Long.toString(value));
    }

    /** A limits file as the kernel prints it, for "self" or a pid. */
    FixtureTree limits(String process, long soft, long hard) {
        String row = "%-26s%-21s%-21s%-10s%n";
        return write("/proc/" + process + "/limits",
                String.format(row, "Limit", "Soft Limit", "Hard Limit", "Units")
                        + String.format(row, "Max cpu time", "unlimited", "unlimited", "seconds")
                        + String.format(row, "Max processes", "95000", "95000", "processes")
                        + String.format(row, "Max open files", text(soft), text(hard), "files")
                        + String.format(row, "Max locked memory", "8388608", "8388608", "bytes"));
    }

    private static String text(long limit) {
        return limit == Long.MAX_VALUE ? "unlimited" : Long.toString(limit);
    }

    FixtureTree status(String process, long uid, String capEff, String capBnd) {
        return write("/proc/" + process + "/status", "Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\n"
                + "Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\n"
                + "CapInh:\t0000000000000000\nCapPrm:\t" + capEff + "\nCapEff:\t" + capEff + "\nCapBnd:\t" + capBnd + "\n");
    }

    /** An unprivileged user: no effective capabilities, but root could have them. */
    FixtureTree unprivileged() {
        return status("self", 1000, "0000000000000000", FULL_CAPS);
    }

    /** A Docker container without --privileged: CAP_SYS_RESOURCE dropped, /proc/sys read-only. */
    FixtureTree dockerWithoutPrivilege() {
        write("/.dockerenv", "");
        status("self", 0, "00000000a80425fb", "00000000a80425fb");
        return write("/proc/self/mountinfo", """
                600 500 0:50 / / rw,relatime - overlay overlay rw
                601 600 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
                602 601 0:51 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
                """);
    }

    /** Mounts {@code type} at {@code mountPoint} on top of the other lines of /proc/self/mounts. */
    FixtureTree mount(String mountPoint, String type, String options) {
        try {
            String table = Files.readString(root.resolve(Mount.MOUNTS.substring(1)));
            return write(Mount.MOUNTS, table + type + " " + mountPoint.replace(" ", "\\040") + " " + type + " " + options + " 0 0\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    FixtureTree memInfo(long totalBytes, long availableBytes) {
        return write("/proc/meminfo", "MemTotal:       " + totalBytes / 1024 + " kB\nMemFree:        1024 kB\n"
                + "MemAvailable:   " + availableBytes / 1024 + " kB\n");
    }

    FixtureTree conntrack(long max, long count) {
        sysctl("net.netfilter.nf_conntrack_max", max);
        return sysctl("net.netfilter.nf_conntrack_count", count);
    }
}
