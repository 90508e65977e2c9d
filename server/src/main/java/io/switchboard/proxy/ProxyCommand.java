package io.switchboard.proxy;

import io.switchboard.doctor.Doctor;
import io.switchboard.transport.Transport;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code switchboard proxy}: forwards TCP connections to upstreams, spreading outbound connections over source
 * addresses. Runs until SIGTERM or SIGINT, then drains (stops accepting, lets connections finish up to
 * {@code --drain-timeout}) and exits 0; a second signal stops at once.
 */
@Command(name = "proxy", sortOptions = false, mixinStandardHelpOptions = true, abbreviateSynopsis = true,
        description = {"Forward TCP connections from --listen to the --upstream addresses (both sockets of a connection "
                + "on one event loop, reads paced by the slower side, half-close passed on).",
                "SIGTERM or SIGINT drains: no new connections, open ones run until they end or --drain-timeout, "
                        + "then the process exits 0."},
        showDefaultValues = true)
public final class ProxyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    io.switchboard.cli.ListenerOptions listener = new io.switchboard.cli.ListenerOptions();

    @Option(names = "--listen", required = true, paramLabel = "ADDR:PORT", description = "Address to accept on.")
    String listen;
    @Option(names = "--upstream", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Where connections are forwarded (resolved once at start; at most 64).")
    String upstream;
    @Option(names = "--balance", description = "Upstream choice: rr (round robin) or least (fewest connections).")
    String balance = "rr";
    @Option(names = "--connect-timeout", description = "Milliseconds for an upstream connect.")
    int connectTimeoutMs = 3000;
    @Option(names = "--retries", description = "Other upstreams tried after a failed connect.")
    int retries = 2;
    @Option(names = "--max-fails", description = "Consecutive connect failures that mark an upstream down.")
    int maxFails = 1;
    @Option(names = "--fail-timeout", description = "Seconds a failed upstream stays down before it is tried again.")
    int failTimeoutSec = 10;
    @Option(names = "--health-interval", description = "Seconds between active TCP checks of upstreams; 0 = off.")
    int healthIntervalSec;

    @Option(names = "--source", paramLabel = "ADDR[,ADDR|A-B...]",
            description = "Source addresses for upstream connections (IP_BIND_ADDRESS_NO_PORT + bind(src, 0)); "
                    + "e.g. 127.0.0.2-127.0.0.9 or 10.0.0.5-9. Unset: the kernel chooses.")
    String source;
    @Option(names = "--source-ports", paramLabel = "LO-HI",
            description = "Local port range per upstream socket (IP_LOCAL_PORT_RANGE, Linux 6.3+; falls back to the "
                    + "global range when rejected). Unset: net.ipv4.ip_local_port_range.")
    String sourcePorts;
    @Option(names = "--send-proxy", paramLabel = "v1|v2", description = "Send a PROXY protocol header to upstreams.")
    String sendProxy;
    @Option(names = "--accept-proxy", description = "Expect a PROXY protocol header (v1 or v2) on accepted connections.")
    boolean acceptProxy;
    @Option(names = "--accept-proxy-timeout", description = "Seconds a connection has to send its PROXY header.")
    int acceptProxyTimeoutSec = 10;

    @Option(names = "--max-connections", description = "Client connections accepted at once (closed beyond).")
    int maxConnections = 1_000_000;
    @Option(names = "--max-connections-per-ip", description = "Connections per source address; 0 = unlimited.")
    int maxConnectionsPerIp;
    @Option(names = "--allow", paramLabel = "CIDR[,CIDR...]", description = "Only these source blocks (default: all).")
    String allow;
    @Option(names = "--deny", paramLabel = "CIDR[,CIDR...]", description = "Refuse these source blocks (wins over --allow).")
    String deny;
    @Option(names = "--idle-timeout", description = "Seconds without a byte either way before a connection closes; "
            + "0 = never (checked once a second).")
    int idleTimeoutSec = 3600;

    @Option(names = "--drain-timeout", description = "Seconds open connections may run on after SIGTERM.")
    int drainTimeoutSec = 30;
    @Option(names = "--metrics-bind", description = "Address of the Prometheus endpoint.")
    String metricsBind = "127.0.0.1";
    @Option(names = "--metrics-port", description = "Port of GET /metrics and /healthz; -1 = off.")
    int metricsPort = -1;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ProxyConfig cfg;
        try {
            cfg = toConfig().validate();
        } catch (IllegalArgumentException e) {
            err.println("switchboard proxy: " + e.getMessage());
            err.flush();
            return 2;
        }
        ProxyServer proxy;
        try {
            proxy = ProxyServer.start(cfg);
        } catch (IllegalStateException | IllegalArgumentException | java.io.UncheckedIOException e) {
            err.println("switchboard proxy: " + e.getMessage());
            err.flush();
            return 1;
        } catch (Exception e) {
            err.println("switchboard proxy: cannot listen on " + listen + ": " + e.getMessage()
                    + " (port in use? or --reuse-port for several processes)");
            err.flush();
            return 1;
        }
        printBanner(out, cfg, proxy);
        Doctor.startupWarning("proxy", cfg.maxConnections, Math.max(1, cfg.sources.size()), cfg.upstreams.size())
                .ifPresent(w -> {
                    err.println("switchboard proxy: warning: " + w);
                    err.flush();
                });
        io.switchboard.cli.DrainOnSignals.install("switchboard proxy", proxy::draining, proxy::drain, proxy::close,
                "draining for up to " + cfg.drainTimeoutSec + " s");
        proxy.drained().join();
        out.println("switchboard proxy: drained, exiting");
        out.flush();
        return 0;
    }

    ProxyConfig toConfig() {
        ProxyConfig c = new ProxyConfig();
        c.listen = Addresses.hostPort("--listen", listen);
        c.upstreams = Addresses.hostPorts("--upstream", upstream);
        c.balance = ProxyConfig.Balance.parse(balance);
        c.connectTimeoutMs = connectTimeoutMs;
        c.retries = retries;
        c.maxFails = maxFails;
        c.failTimeoutSec = failTimeoutSec;
        c.healthIntervalSec = healthIntervalSec;
        c.sources = source == null || source.isBlank() ? java.util.List.of() : Addresses.sources("--source", source);
        c.sourcePorts = sourcePorts == null || sourcePorts.isBlank() ? null
                : Addresses.portRange("--source-ports", sourcePorts);
        c.sendProxy = ProxyConfig.SendProxy.parse(sendProxy);
        c.acceptProxy = acceptProxy;
        c.proxyHeaderTimeoutSec = acceptProxyTimeoutSec;
        c.maxConnections = maxConnections;
        c.maxConnectionsPerIp = maxConnectionsPerIp;
        c.allow = CidrList.parse("--allow", allow);
        c.deny = CidrList.parse("--deny", deny);
        c.idleTimeoutSec = idleTimeoutSec;
        c.tcpKeepalive = listener.tcpKeepalive;
        c.tcpKeepIdleSec = listener.tcpKeepIdle;
        c.tcpKeepIntervalSec = listener.tcpKeepIntvl;
        c.tcpKeepCount = listener.tcpKeepCnt;
        c.drainTimeoutSec = drainTimeoutSec;
        c.metricsBind = metricsBind;
        c.metricsPort = metricsPort;
        c.transport = Transport.parse(listener.transport);
        c.eventLoops = listener.eventLoops;
        c.reusePort = listener.reusePort;
        c.backlog = listener.backlog;
        return c;
    }

    private static void printBanner(PrintWriter out, ProxyConfig c, ProxyServer p) {
        out.printf("switchboard proxy: listening on %s:%d (%s, %d event loops%s%s)%n",
                c.listen.getAddress().getHostAddress(), p.port(), c.transport, c.eventLoops,
                c.reusePort ? ", SO_REUSEPORT" : "", c.acceptProxy ? ", PROXY header expected" : "");
        StringBuilder ups = new StringBuilder();
        for (Upstream u : p.upstreams()) {
            ups.append(ups.isEmpty() ? "" : ", ").append(u.label());
        }
        out.printf("switchboard proxy: upstreams %s (%s, connect timeout %d ms, %d retries%s%s)%n", ups,
                c.balance.name().toLowerCase(java.util.Locale.ROOT), c.connectTimeoutMs, c.retries,
                c.healthIntervalSec > 0 ? ", health check every " + c.healthIntervalSec + " s" : "",
                c.sendProxy != ProxyConfig.SendProxy.OFF ? ", PROXY " + c.sendProxy.name().toLowerCase(
                        java.util.Locale.ROOT) : "");
        out.printf("switchboard proxy: sources %s%s%n", c.sources.isEmpty() ? "chosen by the kernel"
                        : c.sources.size() + " addresses (" + c.sources.get(0).getHostAddress()
                        + (c.sources.size() > 1 ? " ... " + c.sources.get(c.sources.size() - 1).getHostAddress() : "")
                        + ")",
                c.sourcePorts == null ? "" : ", ports " + c.sourcePorts[0] + "-" + c.sourcePorts[1]
                        + (p.portRangeApplied() ? " per socket" : " (IP_LOCAL_PORT_RANGE unavailable)"));
        out.printf("switchboard proxy: limits: max-connections %d%s, idle timeout %s%s%s%n", c.maxConnections,
                c.maxConnectionsPerIp > 0 ? ", per-ip " + c.maxConnectionsPerIp : "",
                c.idleTimeoutSec > 0 ? c.idleTimeoutSec + " s" : "off",
                c.allow.isEmpty() ? "" : ", allow " + c.allow.size() + " blocks",
                c.deny.isEmpty() ? "" : ", deny " + c.deny.size() + " blocks");
        if (p.metricsPort() >= 0) {
            out.printf("switchboard proxy: metrics on http://%s:%d/metrics%n", c.metricsBind, p.metricsPort());
        }
        out.flush();
    }

}
