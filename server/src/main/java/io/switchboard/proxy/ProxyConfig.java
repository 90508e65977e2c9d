package io.switchboard.proxy;

import io.switchboard.config.Clock;
import io.switchboard.transport.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;

/**
 * Every proxy setting with its default; {@link ProxyCommand} fills it from the command line, tests set fields
 * directly. {@link #validate()} names the offending option in one line. Built once before start, then read-only.
 */
public final class ProxyConfig {
    /** How an upstream is chosen for a new connection. */
    public enum Balance {
        /** Round robin over the upstreams that are up. */
        RR,
        /** The upstream that is up with the fewest open connections from this process. */
        LEAST;

        static Balance parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "rr", "round-robin" -> RR;
                case "least", "least-conn" -> LEAST;
                default -> throw new IllegalArgumentException("--balance must be rr or least, not '" + s + "'");
            };
        }
    }

    /** PROXY protocol header sent to upstreams. */
    public enum SendProxy {
        OFF, V1, V2;

        static SendProxy parse(String s) {
            if (s == null) {
                return OFF;
            }
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "off", "none" -> OFF;
                case "v1", "1" -> V1;
                case "v2", "2" -> V2;
                default -> throw new IllegalArgumentException("--send-proxy must be v1 or v2, not '" + s + "'");
            };
        }
    }

    // Listening
    public InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    public Transport transport = Transport.EPOLL;
    public int eventLoops = Runtime.getRuntime().availableProcessors();
    public boolean reusePort = false;
    public int backlog = 4096;
    public boolean acceptProxy = false;
    /** Seconds an accepted connection has to send its PROXY header (with {@link #acceptProxy}). */
    public int proxyHeaderTimeoutSec = 10;

    // Upstreams
    public List<InetSocketAddress> upstreams = List.of();
    public Balance balance = Balance.RR;
    public int connectTimeoutMs = 3000;
    /** Further upstreams tried after a failed connect (each upstream at most once per connection). */
    public int retries = 2;
    /** Consecutive connect failures that mark an upstream down. */
    public int maxFails = 1;
    /** Seconds an upstream marked down by failures is skipped before it is tried again. */
    public int failTimeoutSec = 10;
    /** Seconds between active TCP checks of every upstream; 0 = passive marking only. */
    public int healthIntervalSec = 0;
    public SendProxy sendProxy = SendProxy.OFF;

    // Outbound sockets
    public List<InetAddress> sources = List.of();
    /** Per-socket local port range (IP_LOCAL_PORT_RANGE), {lo, hi}; null = the kernel's global range. */
    public int[] sourcePorts = null;

    // Protection
    public int maxConnections = 1_000_000;
    public int maxConnectionsPerIp = 0;
    public CidrList allow = CidrList.EMPTY;
    public CidrList deny = CidrList.EMPTY;
    /** Seconds without a byte either way before a connection is closed; 0 = never. */
    public int idleTimeoutSec = 3600;
    public boolean tcpKeepalive = true;
    public int tcpKeepIdleSec = 120;
    public int tcpKeepIntervalSec = 30;
    public int tcpKeepCount = 4;

    // Operations
    public int drainTimeoutSec = 30;
    public String metricsBind = "127.0.0.1";
    /** Port of the Prometheus endpoint; -1 = off, 0 = any free port. */
    public int metricsPort = -1;
    public Clock clock = Clock.SYSTEM;

    public ProxyConfig validate() {
        if (upstreams.isEmpty()) {
            throw new IllegalArgumentException("--upstream needs at least one HOST:PORT");
        }
        if (upstreams.size() > 64) {
            throw new IllegalArgumentException("--upstream takes at most 64 addresses");
        }
        range("--event-loops", eventLoops, 1, 1024);
        range("--backlog", backlog, 1, 1 << 20);
        range("--accept-proxy-timeout", proxyHeaderTimeoutSec, 1, 3600);
        range("--connect-timeout", connectTimeoutMs, 1, 600_000);
        range("--retries", retries, 0, 64);
        range("--max-fails", maxFails, 1, 1_000_000);
        range("--fail-timeout", failTimeoutSec, 0, 86_400);
        range("--health-interval", healthIntervalSec, 0, 86_400);
        range("--max-connections", maxConnections, 1, Integer.MAX_VALUE);
        range("--max-connections-per-ip", maxConnectionsPerIp, 0, Integer.MAX_VALUE);
        range("--idle-timeout", idleTimeoutSec, 0, 30 * 86_400);
        range("--drain-timeout", drainTimeoutSec, 0, 86_400);
        range("--metrics-port", metricsPort, -1, 65535);
        range("--tcp-keepidle", tcpKeepIdleSec, 0, 32_767);
        range("--tcp-keepintvl", tcpKeepIntervalSec, 0, 32_767);
        range("--tcp-keepcnt", tcpKeepCount, 0, 127);
        if (sourcePorts != null && (sourcePorts[0] < 1 || sourcePorts[1] < sourcePorts[0] || sourcePorts[1] > 65535)) {
            throw new IllegalArgumentException("--source-ports wants 1 <= LO <= HI <= 65535");
        }
        if (reusePort && !transport.supportsReusePort()) {
            throw new IllegalArgumentException("--reuse-port needs --transport epoll or io_uring");
        }
        return this;
    }

    private static void range(String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be between " + min + " and " + max + ", not " + value);
        }
    }
}
