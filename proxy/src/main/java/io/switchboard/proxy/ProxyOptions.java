package io.switchboard.proxy;

import io.switchboard.options.ListenerOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The proxy's process-wide options (listener sockets, outbound source addresses, limits, drain, metrics), shared by
 * the command line and the global section of a config file ({@link ProxyFile}).
 */
public final class ProxyOptions {
    @Mixin
    ListenerOptions listener = new ListenerOptions();

    @Option(names = "--source", paramLabel = "ADDR[,ADDR|A-B...]",
            description = "Source addresses for upstream connections (IP_BIND_ADDRESS_NO_PORT + bind(src, 0)); "
                    + "e.g. 127.0.0.2-127.0.0.9 or 10.0.0.5-9. Unset: the kernel chooses.")
    String source;
    @Option(names = "--source-ports", paramLabel = "LO-HI",
            description = "Local port range per upstream socket (IP_LOCAL_PORT_RANGE, Linux 6.3+; falls back to the "
                    + "global range when rejected). Unset: net.ipv4.ip_local_port_range.")
    String sourcePorts;
    @Option(names = "--max-connections", description = "Client connections accepted at once (closed beyond).")
    int maxConnections = 1_000_000;
    @Option(names = "--max-connections-per-ip",
            description = "Connections per source address (IPv6: per /64 network); 0 = unlimited.")
    int maxConnectionsPerIp;
    @Option(names = "--rate-per-ip",
            description = "New connections per second per source address (IPv6: per /64 network); 0 = unlimited.")
    int ratePerIp;
    @Option(names = "--drain-timeout", description = "Seconds open connections may run on after SIGTERM.")
    int drainTimeoutSec = 30;
    @Option(names = "--metrics-bind", description = "Address of the Prometheus endpoint.")
    String metricsBind = "127.0.0.1";
    @Option(names = "--metrics-port", description = "Port of GET /metrics and /healthz; -1 = off.")
    int metricsPort = -1;

    /** A configuration with these settings and no route yet. */
    ProxyConfig toConfig() {
        ProxyConfig c = new ProxyConfig();
        listener.copyTo(c);
        c.sources = source == null || source.isBlank() ? java.util.List.of() : Addresses.sources("--source", source);
        c.sourcePorts = sourcePorts == null || sourcePorts.isBlank() ? null
                : Addresses.portRange("--source-ports", sourcePorts);
        c.maxConnections = maxConnections;
        c.maxConnectionsPerIp = maxConnectionsPerIp;
        c.ratePerIp = ratePerIp;
        c.drainTimeoutSec = drainTimeoutSec;
        c.metricsBind = metricsBind;
        c.metricsPort = metricsPort;
        return c;
    }
}
