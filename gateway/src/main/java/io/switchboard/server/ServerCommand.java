package io.switchboard.server;

import io.switchboard.process.DrainOnSignals;
import io.switchboard.process.TenuredGarbageBound;
import io.switchboard.auth.Authenticator;
import io.switchboard.config.GatewayServices;
import io.switchboard.config.ServerConfig;
import io.switchboard.doctor.Doctor;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code switchboard server}: the gateway on its embedded defaults, every setting an option. Runs until SIGTERM,
 * SIGINT or {@code POST /v1/drain}, then drains and exits 0; drains by itself and exits 1 when another process
 * took over its cluster node.
 */
@Command(name = "server", sortOptions = false, mixinStandardHelpOptions = true, abbreviateSynopsis = true,
        description = {"Run the Switchboard gateway: SWB/1 clients on --port, the backend API on --api-bind:--api-port.",
                "SIGTERM or SIGINT drains: no new clients, every client is sent 'BYE 503 draining retry=<ms>' over "
                        + "--drain-period, then the process exits 0. In a cluster, a process whose --node another "
                        + "process took over (this one was taken for dead) drains by itself and exits 1."},
        showDefaultValues = true)
public final class ServerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    /** Every setting, declared once on the builder: option, description and default. */
    @Mixin
    ServerConfig.Builder config = new ServerConfig.Builder();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ServerConfig cfg;
        GatewayServices services;
        try {
            cfg = toConfig();
            services = GatewayServices.from(cfg);
        } catch (IllegalArgumentException e) {
            err.println("switchboard server: " + e.getMessage());
            err.flush();
            return 2;
        }
        GatewayServer gateway;
        try {
            gateway = GatewayServer.start(cfg, services);
        } catch (IllegalStateException | IllegalArgumentException e) {
            err.println("switchboard server: " + e.getMessage());
            err.flush();
            return 1;
        } catch (Exception e) {
            // Bind failures surface as native or socket exceptions: one line, with the likely cause.
            err.println("switchboard server: cannot listen on " + cfg.bind + ":" + cfg.port + " or API "
                    + cfg.apiBind + ":" + cfg.apiPort + ": " + e.getMessage()
                    + " (port in use? try --port / --api-port, or --reuse-port for several processes)");
            err.flush();
            return 1;
        }
        printBanner(out, cfg, services, gateway);
        String openAuth = cfg.openAuthWarning();
        if (openAuth != null) {
            err.println("switchboard server: warning: " + openAuth);
            err.flush();
        }
        Doctor.startupWarning("server", cfg.maxConnections).ifPresent(w -> {
            err.println("switchboard server: warning: " + w);
            err.flush();
        });
        DrainOnSignals.install("switchboard server", gateway::draining, gateway::drain, gateway::close,
                "draining over " + cfg.drainPeriodSec + " s");
        TenuredGarbageBound.start("switchboard server");
        gateway.drained().join();
        if (gateway.leftBecause() != null) {
            err.println("switchboard server: " + gateway.leftBecause() + "; drained, exiting 1");
            err.flush();
            return 1;
        }
        out.println("switchboard server: drained, exiting");
        out.flush();
        return 0;
    }

    /** The settings the command line gave, checked. */
    ServerConfig toConfig() {
        return config.build();
    }

    private static void printBanner(PrintWriter out, ServerConfig cfg, GatewayServices services, GatewayServer g) {
        out.printf("switchboard server: clients on %s:%d (SWB/1, %s, %d event loops%s%s)%n", cfg.bind, g.port(),
                cfg.transport, cfg.eventLoops, cfg.reusePort ? ", SO_REUSEPORT" : "",
                cfg.acceptProxy ? ", PROXY header expected" : "");
        if (g.mqttPort() >= 0) {
            out.printf("switchboard server: MQTT 3.1.1/5%s on %s:%d (pushes on %s)%n",
                    cfg.mqttTlsCert != null ? " over TLS" : "", cfg.bind, g.mqttPort(), cfg.mqttPushTopic);
        }
        if (g.wsPort() >= 0) {
            out.printf("switchboard server: WebSocket%s on %s:%d (SWB/1 on /swb, MQTT on /mqtt)%n",
                    cfg.wsTlsCert != null ? " over TLS (wss)" : "", cfg.bind, g.wsPort());
        }
        out.printf("switchboard server: backend API on http://%s:%d%s%n", cfg.apiBind, g.apiPort(),
                cfg.apiToken != null ? " (bearer token required)" : "");
        if (cfg.cluster != null) {
            out.printf("switchboard server: cluster node %s on %s (clients, stored messages and routing shared there;"
                    + " commands time out after %d ms)%n", cfg.nodeName, cfg.cluster.replaceAll("//[^@/]*@", "//***@"),
                    cfg.clusterTimeoutMs);
        }
        out.printf("switchboard server: auth %s; upstream %s%n", services.authenticator() == Authenticator.NONE
                ? "none" : "jwt", services.upstream() == io.switchboard.upstream.UpstreamSink.NONE
                ? "none (SEND answered NACK 503)" : "webhook");
        out.printf("switchboard server: limits: max-connections %d%s%s, hb %d s (%d-%d), window %d, queue %d msgs/%d B "
                        + "per client, %d B queued in all (--max-queued-total), payload %d B, line %d B%n",
                cfg.maxConnections, cfg.maxConnections == ServerConfig.DEFAULTS.maxConnections
                        ? " (what the open-file limit allows)" : "",
                cfg.maxConnectionsPerIp > 0 ? ", per-ip " + cfg.maxConnectionsPerIp : "",
                cfg.heartbeatDefaultSec, cfg.heartbeatMinSec, cfg.heartbeatMaxSec, cfg.windowMessages,
                cfg.maxQueuedMessagesPerClient, cfg.maxQueuedBytesPerClient, cfg.maxQueuedTotalBytes,
                cfg.maxPayloadBytes, cfg.maxLineBytes);
        out.printf("switchboard server: open-file limit %s; max heap %d MiB%n", openFileLimit(),
                Runtime.getRuntime().maxMemory() >> 20);
        out.flush();
    }

    private static String openFileLimit() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return f[0] + " (hard " + f[1] + ")";
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
        return "unknown";
    }

}
