package io.switchboard.doctor;

/**
 * What one connection costs, in one place, so that the doctor and the benchmarks agree.
 * Both figures come from {@code bench/gateway-19k.sh} on the build machine (19,000 idle clients, one server
 * process, 2026-11-22): see the README's benchmark section. Constants only: safe from any thread.
 */
public final class ConnectionCost {

    /**
     * Kernel memory of one established idle TCP socket with empty buffers, with its file, inode and epoll entry:
     * the slab grew 9,926 bytes per loopback connection (two sockets), so about 5,000 per socket.
     */
    public static final long KERNEL_BYTES_PER_SOCKET = 5_000;

    /** Switchboard's heap per idle client after a full GC (Netty channel, connection, session, index): 1,178 measured. */
    public static final long HEAP_BYTES_PER_CONNECTION = 1_180;

    /**
     * Open files a Switchboard JVM keeps besides its connections: an idle JVM holds 6 (measured),
     * each Netty epoll event loop 3 (epoll, eventfd, timerfd), plus listeners, the jar, logs and Redis.
     */
    public static final long RESERVED_FDS = 64;

    /**
     * Share of the maximum heap that connection state may fill: G1 needs free regions to collect
     * without long pauses, so live data should stay under three quarters of {@code -Xmx}.
     */
    public static final double USABLE_HEAP_FRACTION = 0.75;

    /** The unit of {@code net.ipv4.tcp_mem}. */
    public static final long PAGE_BYTES = 4_096;

    private ConnectionCost() {
    }

    /** Memory one connection of this role costs: kernel sockets plus Switchboard's heap. */
    public static long memoryBytesPerConnection(Role role) {
        return role.socketsPerConnection() * KERNEL_BYTES_PER_SOCKET + HEAP_BYTES_PER_CONNECTION;
    }
}
