package io.switchboard.proxy;

import java.util.EnumMap;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's counters and gauges. Updated from every event loop without locks; read by the metrics endpoint and
 * tests. Byte counters are added once per read, not per connection, so they cost no per-connection memory.
 */
public final class ProxyMetrics {
    /** Why an accepted connection was closed before forwarding anything. */
    public enum Refused {
        MAX_CONNECTIONS, PER_IP_LIMIT, RATE_PER_IP, DENIED, PROXY_HEADER, PROXY_UNTRUSTED, TLS_HANDSHAKE, NO_UPSTREAM,
        /** This process could not open a socket (file descriptors used up): not the upstream's fault. */
        LOCAL_SOCKET,
        /** More than the bytes held while the upstream connects ({@link EarlyBytes#MAX_BYTES}). */
        EARLY_BYTES;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public final LongAdder accepted = new LongAdder();
    public final AtomicLong active = new AtomicLong();
    public final LongAdder forwarded = new LongAdder();
    public final LongAdder bytesToUpstream = new LongAdder();
    public final LongAdder bytesToClient = new LongAdder();
    public final LongAdder idleClosed = new LongAdder();
    /** Closing sides closed with bytes still unsent: their peer took none of them for 60 s. */
    public final LongAdder closeFlushCutOff = new LongAdder();
    public final LongAdder drainClosed = new LongAdder();
    /** Connect attempts that found no free port on one source address (EADDRNOTAVAIL). */
    public final LongAdder sourcePortExhausted = new LongAdder();
    /** Connections for which every source address was out of ports. */
    public final LongAdder allSourcesExhausted = new LongAdder();
    public final LongAdder upstreamMarkedDown = new LongAdder();
    public final LongAdder loopErrors = new LongAdder();
    public final LongAdder reloads = new LongAdder();
    public final LongAdder reloadFailures = new LongAdder();
    public final LongAdder tlsHandshakes = new LongAdder();
    /** Open connections forwarded with splice(2) ({@code --splice}): each holds two pipes besides its sockets. */
    public final AtomicLong splicedActive = new AtomicLong();
    /** Spliced connections closed by an error other than a reset or a close (pipe(2) out of descriptors...). */
    public final LongAdder spliceErrors = new LongAdder();
    /** Spliced connections whose surviving side was closed at once when the other side closed while still read. */
    public final LongAdder splicedClosedWithPeer = new LongAdder();
    /** 1 when IP_LOCAL_PORT_RANGE is applied per socket, 0 when off or rejected by the kernel. */
    public volatile int portRangeApplied;
    private final EnumMap<ConnectError, LongAdder> connectErrors = new EnumMap<>(ConnectError.class);
    private final EnumMap<Refused, LongAdder> refused = new EnumMap<>(Refused.class);

    public ProxyMetrics() {
        for (ConnectError e : ConnectError.values()) {
            connectErrors.put(e, new LongAdder());
        }
        for (Refused r : Refused.values()) {
            refused.put(r, new LongAdder());
        }
    }

    void connectError(ConnectError kind) {
        connectErrors.get(kind).increment();
    }

    public long connectErrors(String kindLabel) {
        return connectErrors.get(ConnectError.valueOf(kindLabel.toUpperCase(Locale.ROOT))).sum();
    }

    void refused(Refused reason) {
        refused.get(reason).increment();
    }

    public long refusals(Refused reason) {
        return refused.get(reason).sum();
    }

    /** Prometheus text exposition (version 0.0.4) of these metrics and the upstreams' state. */
    String prometheus(Iterable<Route> routes, long nowMs, boolean draining, int maxConnections) {
        StringBuilder sb = new StringBuilder(2048);
        gauge(sb, "switchboard_proxy_connections_active", "Client connections open.", active.get());
        gauge(sb, "switchboard_proxy_max_connections", "Configured --max-connections.", maxConnections);
        counter(sb, "switchboard_proxy_connections_total", "Client connections accepted.", accepted.sum());
        counter(sb, "switchboard_proxy_connections_forwarded_total", "Connections that reached an upstream.",
                forwarded.sum());
        header(sb, "switchboard_proxy_bytes_total", "Bytes forwarded, by direction.", "counter");
        sb.append("switchboard_proxy_bytes_total{direction=\"client_to_upstream\"} ").append(bytesToUpstream.sum())
                .append('\n');
        sb.append("switchboard_proxy_bytes_total{direction=\"upstream_to_client\"} ").append(bytesToClient.sum())
                .append('\n');
        header(sb, "switchboard_proxy_connect_errors_total", "Failed upstream connects, by kind.", "counter");
        connectErrors.forEach((k, v) -> sb.append("switchboard_proxy_connect_errors_total{kind=\"").append(k.label())
                .append("\"} ").append(v.sum()).append('\n'));
        header(sb, "switchboard_proxy_refused_total", "Accepted connections closed unforwarded, by reason.",
                "counter");
        refused.forEach((k, v) -> sb.append("switchboard_proxy_refused_total{reason=\"").append(k.label())
                .append("\"} ").append(v.sum()).append('\n'));
        counter(sb, "switchboard_proxy_idle_closed_total", "Connections closed by --idle-timeout.", idleClosed.sum());
        counter(sb, "switchboard_proxy_close_flush_cut_off_total", "Closing connections closed with bytes unsent: "
                + "their peer took none of them for 60 s.", closeFlushCutOff.sum());
        counter(sb, "switchboard_proxy_old_gen_collections_total", "Full collections asked for because the garbage "
                + "in the old generation passed its bound (Serial collector).",
                io.switchboard.process.TenuredGarbageBound.collections());
        counter(sb, "switchboard_proxy_drain_closed_total", "Connections closed at the end of --drain-timeout.",
                drainClosed.sum());
        counter(sb, "switchboard_proxy_source_port_exhausted_total",
                "Connect attempts with no free local port on the chosen source address.", sourcePortExhausted.sum());
        counter(sb, "switchboard_proxy_sources_exhausted_total",
                "Connections refused because every source address was out of ports.", allSourcesExhausted.sum());
        gauge(sb, "switchboard_proxy_port_range_applied", "1 when --source-ports is applied per socket.",
                portRangeApplied);
        counter(sb, "switchboard_proxy_loop_errors_total", "Unexpected errors survived by event loops.",
                loopErrors.sum());
        counter(sb, "switchboard_proxy_tls_handshakes_total", "TLS handshakes completed on TLS listeners.",
                tlsHandshakes.sum());
        gauge(sb, "switchboard_proxy_connections_spliced", "Open connections forwarded with splice (6 file "
                + "descriptors each).", splicedActive.get());
        counter(sb, "switchboard_proxy_splice_errors_total", "Spliced connections closed by a splice or pipe "
                + "error other than a reset.", spliceErrors.sum());
        counter(sb, "switchboard_proxy_splice_closed_with_peer_total", "Spliced connections whose side still being read "
                + "was closed at once when the other side closed (what it still had to write the other way is lost).",
                splicedClosedWithPeer.sum());
        header(sb, "switchboard_proxy_reloads_total", "Configuration reloads (SIGHUP), by result.", "counter");
        sb.append("switchboard_proxy_reloads_total{result=\"ok\"} ").append(reloads.sum()).append('\n');
        sb.append("switchboard_proxy_reloads_total{result=\"refused\"} ").append(reloadFailures.sum()).append('\n');
        gauge(sb, "switchboard_proxy_draining", "1 while draining.", draining ? 1 : 0);
        upstreamFamily(sb, routes, "switchboard_proxy_upstream_up", "1 when the upstream is taken for new "
                + "connections.", "gauge", u -> u.isUp(nowMs) ? 1 : 0);
        upstreamFamily(sb, routes, "switchboard_proxy_upstream_connections_active", "Open connections per upstream.",
                "gauge", u -> u.active.get());
        upstreamFamily(sb, routes, "switchboard_proxy_upstream_connections_total", "Successful connects per "
                + "upstream.", "counter", u -> u.connections.sum());
        upstreamFamily(sb, routes, "switchboard_proxy_upstream_failures_total", "Failed connects per upstream.",
                "counter", u -> u.failures.sum());
        counter(sb, "switchboard_proxy_upstream_marked_down_total", "Times an upstream was marked down.",
                upstreamMarkedDown.sum());
        return sb.toString();
    }

    private static void upstreamFamily(StringBuilder sb, Iterable<Route> routes, String name, String help,
            String type, java.util.function.ToLongFunction<Upstream> value) {
        header(sb, name, help, type);
        for (Route r : routes) {
            for (Upstream u : r.balancer.upstreams()) {
                sb.append(name).append("{listen=\"").append(r.name()).append("\",upstream=\"").append(u.label)
                        .append("\"} ").append(value.applyAsLong(u)).append('\n');
            }
        }
    }

    private static void header(StringBuilder sb, String name, String help, String type) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long value) {
        header(sb, name, help, "gauge");
        sb.append(name).append(' ').append(value).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long value) {
        header(sb, name, help, "counter");
        sb.append(name).append(' ').append(value).append('\n');
    }
}
