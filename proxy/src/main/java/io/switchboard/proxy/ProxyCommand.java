package io.switchboard.proxy;

import com.sun.management.UnixOperatingSystemMXBean;
import io.switchboard.process.DrainOnSignals;
import io.switchboard.process.TenuredGarbageBound;
import io.switchboard.doctor.Doctor;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code switchboard proxy}: forwards TCP connections to upstreams, spreading outbound connections over source
 * addresses. One listener from the command line, or several from {@code --config FILE}. Runs until SIGTERM or
 * SIGINT, then drains (stops accepting, lets connections finish up to {@code --drain-timeout}) and exits 0; a second
 * signal stops at once. SIGHUP reads the config file again and applies it without dropping connections.
 */
@Command(name = "proxy", sortOptions = false, mixinStandardHelpOptions = true, abbreviateSynopsis = true,
        description = {"Forward TCP connections from --listen to the --upstream addresses (both sockets of a connection "
                + "on one event loop, reads paced by the slower side, half-close passed on).",
                "--config FILE instead takes every setting from a file with several listeners (see docs/proxy.md); "
                        + "SIGHUP reloads it without dropping connections.",
                "SIGTERM or SIGINT drains: no new connections, open ones run until they end or --drain-timeout, "
                        + "then the process exits 0."},
        showDefaultValues = true)
public final class ProxyCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ProxyCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "Read every setting from FILE (several listeners "
            + "and routes; no other option with it). SIGHUP reads it again.")
    Path configFile;

    @Mixin
    RouteOptions route = new RouteOptions();

    @Mixin
    ProxyOptions options = new ProxyOptions();

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
            err.println("switchboard proxy: cannot listen: " + e.getMessage()
                    + " (port in use? or --reuse-port for several processes)");
            err.flush();
            return 1;
        }
        printBanner(out, cfg, proxy);
        int upstreams = cfg.routes.stream().mapToInt(r -> r.upstreams.size()).sum();
        Doctor.startupWarning("proxy", cfg.maxConnections, Math.max(1, cfg.sources.size()), upstreams)
                .ifPresent(w -> {
                    err.println("switchboard proxy: warning: " + w);
                    err.flush();
                });
        if (cfg.routes.stream().anyMatch(r -> r.splice)) {
            spliceWarning(cfg.maxConnections, openFilesLimit(), pipeUserPagesSoft()).ifPresent(w -> {
                err.println("switchboard proxy: warning: " + w);
                err.flush();
            });
        }
        DrainOnSignals.install("switchboard proxy", proxy::draining, proxy::drain, proxy::close,
                "draining for up to " + cfg.drainTimeoutSec + " s");
        installReload(proxy, cfg.file, err);
        TenuredGarbageBound.start("switchboard proxy");
        proxy.drained().join();
        out.println("switchboard proxy: drained, exiting");
        out.flush();
        return 0;
    }

    ProxyConfig toConfig() {
        if (configFile != null) {
            for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
                if (!o.longestName().equals("--config")) {
                    throw new IllegalArgumentException("--config takes every setting from the file: move "
                            + o.longestName() + " into it (as '" + o.longestName().substring(2) + " VALUE')");
                }
            }
            return ProxyFile.load(configFile);
        }
        if (route.listen == null && route.upstream == null) {
            throw new IllegalArgumentException("give --listen ADDR:PORT and --upstream HOST:PORT, or --config FILE "
                    + "(see --help)");
        }
        ProxyConfig c = options.toConfig();
        c.routes.add(route.toRoute());
        return c;
    }

    /** SIGHUP: read the config file again and apply it; one line on stderr either way. */
    @SuppressWarnings("restriction")
    private static void installReload(ProxyServer proxy, Path file, PrintWriter err) {
        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
            if (file == null) {
                err.println("switchboard proxy: SIGHUP ignored: no --config file to read again (the command line "
                        + "cannot change)");
                err.flush();
                return;
            }
            try {
                ProxyConfig next;
                try {
                    next = ProxyFile.load(file);
                } catch (IllegalArgumentException e) {
                    proxy.metrics.reloadFailures.increment(); // counted like a refused apply
                    throw e;
                }
                String what = proxy.reload(next);
                err.println("switchboard proxy: SIGHUP: reloaded " + file + ": " + what);
            } catch (IllegalArgumentException e) {
                err.println("switchboard proxy: SIGHUP: " + file + " not applied, the previous configuration "
                        + "stays: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                log.warn("reload failed", e);
                err.println("switchboard proxy: SIGHUP: reload failed: " + e);
            }
            err.flush();
        });
    }

    /**
     * With {@code --splice}: one line when the open-files limit ({@code openFiles}, -1 unknown) or
     * {@code fs.pipe-user-pages-soft} ({@code pipePagesSoft}, 0 = none, -1 unknown) caps spliced connections below
     * {@code maxConnections}; empty otherwise.
     */
    static Optional<String> spliceWarning(long maxConnections, long openFiles, long pipePagesSoft) {
        List<String> caps = new ArrayList<>();
        if (openFiles > 0 && openFiles / 6 < maxConnections) {
            caps.add("the open-files limit " + openFiles + " allows about " + openFiles / 6 + " connections (6 "
                    + "files each: 2 sockets, 2 pipes); raise it (ulimit -n, LimitNOFILE)");
        }
        long fullPipes = pipePagesSoft / 16 / 2; // a default pipe has 16 pages, a connection 2 pipes
        if (pipePagesSoft > 0 && fullPipes < maxConnections) {
            caps.add("past " + fullPipes + " connections fs.pipe-user-pages-soft (" + pipePagesSoft + " pages) "
                    + "shrinks new pipes to 1-2 pages, so each splice moves 4-8 KiB instead of 64 KiB, unless the "
                    + "proxy runs with CAP_SYS_RESOURCE (root); raise it or set it to 0");
        }
        return caps.isEmpty() ? Optional.empty()
                : Optional.of("--splice with --max-connections " + maxConnections + ": " + String.join("; ", caps));
    }

    private static long openFilesLimit() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean u
                ? u.getMaxFileDescriptorCount() : -1;
    }

    private static long pipeUserPagesSoft() {
        try {
            return Long.parseLong(Files.readString(Path.of("/proc/sys/fs/pipe-user-pages-soft")).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void printBanner(PrintWriter out, ProxyConfig c, ProxyServer p) {
        for (Route r : p.routes()) {
            RouteConfig rc = r.config;
            StringBuilder ups = new StringBuilder();
            for (Upstream u : r.balancer.upstreams()) {
                ups.append(ups.isEmpty() ? "" : ", ").append(u.label());
            }
            out.printf("switchboard proxy: listening on %s:%d%s%s -> %s (%s%s, connect timeout %d ms, %d retries%s%s)%n",
                    rc.listen.getAddress().getHostAddress(), p.port(r.name()),
                    rc.tls() ? " TLS (" + Tls.provider(rc.tlsProvider).name().toLowerCase(Locale.ROOT) + ")" : "",
                    rc.acceptProxy ? " with PROXY header" : "", ups,
                    rc.balance.name().toLowerCase(Locale.ROOT), rc.splice ? ", splice" : "", rc.connectTimeoutMs, rc.retries,
                    rc.healthIntervalSec > 0 ? ", health check every " + rc.healthIntervalSec + " s" : "",
                    rc.sendProxy != RouteConfig.SendProxy.OFF ? ", PROXY " + rc.sendProxy.name().toLowerCase(
                            Locale.ROOT) + " sent" : "");
        }
        out.printf("switchboard proxy: %s, %d event loops%s%s%n", c.transport, c.eventLoops,
                c.reusePort ? ", SO_REUSEPORT" : "", c.file != null ? ", config " + c.file + " (SIGHUP reloads)" : "");
        out.printf("switchboard proxy: sources %s%s%n", c.sources.isEmpty() ? "chosen by the kernel"
                        : c.sources.size() + " addresses (" + c.sources.get(0).getHostAddress()
                        + (c.sources.size() > 1 ? " ... " + c.sources.get(c.sources.size() - 1).getHostAddress() : "")
                        + ")",
                c.sourcePorts == null ? "" : ", ports " + c.sourcePorts[0] + "-" + c.sourcePorts[1]
                        + (p.portRangeApplied() ? " per socket" : " (IP_LOCAL_PORT_RANGE unavailable)"));
        RouteConfig first = c.routes.get(0);
        int limit = c.connectionLimit();
        out.printf("switchboard proxy: limits: max-connections %d%s%s, idle timeout %s%s%s%n", limit,
                (limit < c.maxConnections ? " (of " + c.maxConnections + ": what the open-file limit holds at "
                        + c.filesPerConnection() + " files a connection; raise it with ulimit -n)" : "")
                        + (c.maxConnectionsPerIp > 0 ? ", per-ip " + c.maxConnectionsPerIp : ""),
                c.ratePerIp > 0 ? ", " + c.ratePerIp + "/s per ip" : "",
                first.idleTimeoutSec > 0 ? first.idleTimeoutSec + " s" : "off",
                first.allow.isEmpty() ? "" : ", allow " + first.allow.size() + " blocks",
                first.deny.isEmpty() ? "" : ", deny " + first.deny.size() + " blocks");
        if (p.metricsPort() >= 0) {
            out.printf("switchboard proxy: metrics on http://%s:%d/metrics%n", c.metricsBind, p.metricsPort());
        }
        out.flush();
    }
}
