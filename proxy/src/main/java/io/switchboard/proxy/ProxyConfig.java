package io.switchboard.proxy;

import io.switchboard.clock.Clock;
import io.switchboard.options.ListenerOptions;
import io.switchboard.options.Ranges;
import io.switchboard.transport.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Every proxy setting with its default: the process-wide ones here, one {@link RouteConfig} per listener.
 * {@link ProxyCommand} fills it from the command line or {@link ProxyFile}; tests set fields directly.
 * {@link #validate()} names the offending option in one line. Read-only once the proxy runs: a reload builds a new
 * instance.
 */
public final class ProxyConfig extends ListenerOptions {
    // Listening: the inherited settings and these are fixed for the life of the process (a reload that changes
    // them is refused)
    public String metricsBind = "127.0.0.1";
    /** Port of the Prometheus endpoint; -1 = off, 0 = any free port. */
    public int metricsPort = -1;

    /** The listeners; {@link #route()} gives the first (creating it), which is all the command line has. */
    public List<RouteConfig> routes = new ArrayList<>();

    // Outbound sockets (reloadable)
    public List<InetAddress> sources = List.of();
    /** Per-socket local port range (IP_LOCAL_PORT_RANGE), {lo, hi}; null = the kernel's global range. */
    public int[] sourcePorts = null;

    // Protection (reloadable)
    public int maxConnections = 1_000_000;
    public int maxConnectionsPerIp = 0;
    /**
     * The process's open-file limit ({@code -1}: read it from the process); {@link #connectionLimit()} keeps
     * {@link #maxConnections} within it.
     */
    public long openFilesLimit = -1;
    /** New connections per second from one source address; 0 = unlimited. */
    public int ratePerIp = 0;

    // Operations
    public int drainTimeoutSec = 30;
    /** The file this configuration was read from (SIGHUP reads it again); null for the command line. */
    public Path file;
    public Clock clock = Clock.SYSTEM;

    /** Files one forwarded connection holds: its two sockets, and two pipes (four files) with splice. */
    int filesPerConnection() {
        return routes.stream().anyMatch(r -> r.splice) ? 6 : 2;
    }

    /**
     * The connections the proxy holds at most: {@link #maxConnections}, within what the open-file limit leaves after
     * the reserve the JVM and the listeners need. Past it {@code accept} would fail with EMFILE: clients would hang in
     * the backlog, uncounted, and the metrics endpoint could not be reached; within it they are refused and counted as
     * {@code max_connections}.
     */
    public int connectionLimit() {
        long files = openFilesLimit > 0 ? openFilesLimit
                : io.switchboard.doctor.OpenFileLimit.current().orElse(-1);
        if (files <= 0) {
            return maxConnections;
        }
        long fit = Math.max(1, (files - io.switchboard.doctor.ConnectionCost.RESERVED_FDS) / filesPerConnection());
        return (int) Math.min(maxConnections, fit);
    }

    /** The first route, created empty when there is none yet (the command line's single listener, tests). */
    public RouteConfig route() {
        if (routes.isEmpty()) {
            routes.add(new RouteConfig());
        }
        return routes.get(0);
    }

    public ProxyConfig validate() {
        if (routes.isEmpty()) {
            throw new IllegalArgumentException("no listener: give --listen and --upstream, or a listen block in "
                    + "--config");
        }
        Set<String> seen = new HashSet<>();
        for (RouteConfig r : routes) {
            r.validate("");
            if (!seen.add(r.name())) {
                throw new IllegalArgumentException("listen " + r.name() + " appears twice");
            }
            if (r.splice && transport != Transport.EPOLL) {
                throw new IllegalArgumentException("--splice needs --transport epoll, not " + transport
                        + (routes.size() > 1 ? " (listen " + r.name() + ")" : ""));
            }
        }
        validateListener();
        range("--max-connections", maxConnections, 1, Integer.MAX_VALUE);
        range("--max-connections-per-ip", maxConnectionsPerIp, 0, Integer.MAX_VALUE);
        range("--rate-per-ip", ratePerIp, 0, Integer.MAX_VALUE);
        range("--drain-timeout", drainTimeoutSec, 0, 86_400);
        range("--metrics-port", metricsPort, -1, 65535);
        if (sourcePorts != null && (sourcePorts[0] < 1 || sourcePorts[1] < sourcePorts[0] || sourcePorts[1] > 65535)) {
            throw new IllegalArgumentException("--source-ports wants 1 <= LO <= HI <= 65535");
        }
        if (reusePort && !transport.supportsReusePort()) {
            throw new IllegalArgumentException("--reuse-port needs --transport epoll or io_uring");
        }
        checkSourceFamilies();
        return this;
    }

    /**
     * Refuses an upstream address no --source can reach (an IPv6 upstream with IPv4 sources only, or the other way):
     * every connect to it would fail, be counted against the upstream and mark a healthy one down, the log pointing
     * at the upstream. Upstreams given by name are looked up later and not checked here.
     */
    private void checkSourceFamilies() {
        if (sources.isEmpty()) {
            return;
        }
        for (RouteConfig r : routes) {
            for (InetSocketAddress u : r.upstreams) {
                java.net.InetAddress a = u.getAddress();
                if (a != null && sources.stream().noneMatch(src -> src.getClass() == a.getClass())) {
                    throw new IllegalArgumentException("upstream " + a.getHostAddress() + " is IPv"
                            + (a instanceof java.net.Inet6Address ? "6" : "4") + " and every --source is IPv"
                            + (a instanceof java.net.Inet6Address ? "4" : "6") + ": give a --source of its family, "
                            + "or none");
                }
            }
        }
    }

    /**
     * The settings a reload cannot change, compared with {@code next}: one line naming them, or null when equal.
     * They are fixed by the event loops, the bound listeners' socket options and the metrics endpoint.
     */
    String fixedSettingsChanged(ProxyConfig next) {
        List<String> changed = new ArrayList<>();
        if (transport != next.transport) {
            changed.add("transport");
        }
        if (eventLoops != next.eventLoops) {
            changed.add("event-loops");
        }
        if (reusePort != next.reusePort) {
            changed.add("reuse-port");
        }
        if (backlog != next.backlog) {
            changed.add("backlog");
        }
        if (tcpKeepalive != next.tcpKeepalive || tcpKeepIdleSec != next.tcpKeepIdleSec
                || tcpKeepIntervalSec != next.tcpKeepIntervalSec || tcpKeepCount != next.tcpKeepCount) {
            changed.add("tcp-keepalive settings");
        }
        if (!metricsBind.equals(next.metricsBind) || metricsPort != next.metricsPort) {
            changed.add("metrics-bind/metrics-port");
        }
        return changed.isEmpty() ? null : String.join(", ", changed);
    }

    static void range(String option, long value, long min, long max) {
        Ranges.check(option, value, min, max);
    }
}
