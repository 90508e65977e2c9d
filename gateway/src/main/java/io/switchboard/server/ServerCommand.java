package io.switchboard.server;

import io.switchboard.clock.Clock;
import io.switchboard.process.DrainOnSignals;
import io.switchboard.auth.Authenticator;
import io.switchboard.auth.JwtAuthenticator;
import io.switchboard.config.ServerConfig;
import io.switchboard.doctor.Doctor;
import io.switchboard.server.GatewayServer;
import io.switchboard.transport.Transport;
import io.switchboard.upstream.UpstreamSinks;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code switchboard server}: the gateway on its embedded defaults, every setting an option. Runs until SIGTERM,
 * SIGINT or {@code POST /v1/drain}, then drains and exits 0.
 */
@Command(name = "server", sortOptions = false, mixinStandardHelpOptions = true, abbreviateSynopsis = true,
        description = {"Run the Switchboard gateway: SWB/1 clients on --port, the backend API on --api-bind:--api-port.",
                "SIGTERM or SIGINT drains: no new clients, every client is sent 'BYE 503 draining retry=<ms>' over "
                        + "--drain-period, then the process exits 0."},
        showDefaultValues = true)
public final class ServerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    io.switchboard.options.ListenerOptions listener = new io.switchboard.options.ListenerOptions();

    @Option(names = "--bind", description = "Address for client connections.")
    String bind = "0.0.0.0";
    @Option(names = "--port", description = "Port for client connections (SWB/1).")
    int port = 7000;
    @Option(names = "--node", description = "Node name announced in WELCOME (node=...).")
    String node;
    @Option(names = "--accept-proxy", description = "Expect a PROXY protocol header (v1 or v2) first on every client "
            + "connection, as a layer-4 proxy sends it (switchboard proxy --send-proxy v2, HAProxy send-proxy): "
            + "limits, logs and the API use the client address it announces. Only behind such a proxy.")
    boolean acceptProxy;
    @Option(names = "--accept-proxy-timeout", description = "Seconds a connection has to send its complete PROXY "
            + "header (with --accept-proxy); then it is closed.")
    int acceptProxyTimeout = 10;

    @Option(names = "--api-bind", description = "Address of the backend HTTP API.")
    String apiBind = "127.0.0.1";
    @Option(names = "--api-port", description = "Port of the backend HTTP API.")
    int apiPort = 8080;
    @Option(names = "--api-token", description = "Require 'Authorization: Bearer TOKEN' on the API (all but /healthz).")
    String apiToken;

    @Option(names = "--auth", description = "Client authentication: none or jwt.")
    String auth = "none";
    @Option(names = "--jwt-secret", description = "HS256 secret for --auth jwt (at least 32 bytes).")
    String jwtSecret;
    @Option(names = "--jwt-public-key", description = "PEM public key (RSA or EC) for --auth jwt.")
    String jwtPublicKey;
    @Option(names = "--jwt-leeway", description = "Clock skew allowed on exp/nbf, seconds.")
    int jwtLeewaySec = 30;

    @Option(names = "--upstream", description = "Where client SENDs go: webhook:URL. Unset: SENDs get NACK 503.")
    String upstream;
    @Option(names = "--max-pending-sends", description = "Unanswered SENDs per client before NACK 429.")
    int maxPendingSends = 64;

    @Option(names = "--handshake-timeout", description = "Seconds a new connection has to send HELLO.")
    int handshakeTimeout = 10;
    @Option(names = "--hb-default", description = "Heartbeat (s) for clients that do not ask; 0 = TCP keepalive only.")
    int hbDefault = 60;
    @Option(names = "--hb-min", description = "Smallest heartbeat (s) a client may ask for.")
    int hbMin = 5;
    @Option(names = "--hb-max", description = "Largest heartbeat (s) a client may ask for.")
    int hbMax = 3600;
    @Option(names = "--idle-grace", description = "Seconds added to 2 x hb before an idle client is closed.")
    int idleGrace = 10;
    @Option(names = "--max-line", description = "Longest control line in bytes (413 beyond).")
    int maxLine = 1024;
    @Option(names = "--max-payload", description = "Largest payload in bytes, up to 16 MiB (413 beyond).")
    int maxPayload = 64 * 1024;
    @Option(names = "--max-subscriptions", description = "Topics one client may subscribe to.")
    int maxSubscriptions = 100;

    @Option(names = "--window", description = "Unacknowledged messages in flight per client.")
    int window = 128;
    @Option(names = "--max-queued", description = "Messages queued per client (pushes beyond get 429).")
    int maxQueued = 1000;
    @Option(names = "--max-queued-bytes", description = "Payload bytes queued per client (pushes beyond get 429).")
    long maxQueuedBytes = 1024 * 1024;
    @Option(names = "--max-ttl", description = "Longest retention a push may ask for, seconds.")
    int maxTtl = 7 * 24 * 3600;
    @Option(names = "--max-offline-sessions", description = "Offline clients kept for retained messages (429 beyond).")
    int maxOfflineSessions = 1_000_000;
    @Option(names = "--seq-origin", description = "Where a new session's seq starts: clock (a resume from an older "
            + "session never hides new messages) or zero (1, 2, 3... easier by hand; a resume from a forgotten session "
            + "can skip messages).")
    String seqOrigin = "clock";
    @Option(names = "--write-buffer-high", description = "Bytes buffered per slow client before writes pause.")
    int writeBufferHigh = 64 * 1024;

    @Option(names = "--max-connections", description = "Client connections this process accepts (429 beyond).")
    int maxConnections = 1_000_000;
    @Option(names = "--max-connections-per-ip", description = "Connections per source address; 0 = unlimited.")
    int maxConnectionsPerIp;
    @Option(names = "--accept-rate", description = "New connections per second; 0 = unlimited (429 beyond).")
    int acceptRate;

    @Option(names = "--tcp-user-timeout", description = "TCP_USER_TIMEOUT in ms (unacked data drops the peer); 0 = off.")
    int tcpUserTimeoutMs;

    @Option(names = "--drain-period", description = "Seconds over which clients are sent away on drain.")
    int drainPeriod = 10;
    @Option(names = "--reconnect-spread", description = "Clients are told to retry within 1 s + this many ms.")
    int reconnectSpread = 30_000;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ServerConfig cfg;
        try {
            cfg = toConfig();
            cfg.validate();
        } catch (IllegalArgumentException e) {
            err.println("switchboard server: " + e.getMessage());
            err.flush();
            return 2;
        }
        GatewayServer gateway;
        try {
            gateway = GatewayServer.start(cfg);
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
        printBanner(out, cfg, gateway);
        Doctor.startupWarning("server", cfg.maxConnections).ifPresent(w -> {
            err.println("switchboard server: warning: " + w);
            err.flush();
        });
        DrainOnSignals.install("switchboard server", gateway::draining, gateway::drain, gateway::close,
                "draining over " + cfg.drainPeriodSec + " s");
        gateway.drained().join();
        out.println("switchboard server: drained, exiting");
        out.flush();
        return 0;
    }

    ServerConfig toConfig() {
        ServerConfig c = new ServerConfig();
        c.bind = bind;
        c.port = port;
        c.transport = Transport.parse(listener.transport);
        c.eventLoops = listener.eventLoops;
        c.reusePort = listener.reusePort;
        c.backlog = listener.backlog;
        c.nodeName = node;
        c.acceptProxy = acceptProxy;
        c.acceptProxyTimeoutSec = acceptProxyTimeout;
        c.apiBind = apiBind;
        c.apiPort = apiPort;
        c.apiToken = apiToken == null || apiToken.isEmpty() ? null : apiToken;
        c.authenticator = switch (auth) {
            case "none" -> {
                if (jwtSecret != null || jwtPublicKey != null) {
                    throw new IllegalArgumentException("--jwt-secret/--jwt-public-key need --auth jwt");
                }
                yield Authenticator.NONE;
            }
            case "jwt" -> JwtAuthenticator.fromCli(jwtSecret, jwtPublicKey, jwtLeewaySec * 1000L, true);
            default -> throw new IllegalArgumentException("--auth must be none or jwt, not '" + auth + "'");
        };
        c.upstream = UpstreamSinks.parse(upstream);
        c.maxPendingSendsPerClient = maxPendingSends;
        c.handshakeTimeoutSec = handshakeTimeout;
        c.heartbeatDefaultSec = hbDefault;
        c.heartbeatMinSec = hbMin;
        c.heartbeatMaxSec = hbMax;
        c.idleGraceSec = idleGrace;
        c.maxLineBytes = maxLine;
        c.maxPayloadBytes = maxPayload;
        c.maxSubscriptionsPerClient = maxSubscriptions;
        c.windowMessages = window;
        c.maxQueuedMessagesPerClient = maxQueued;
        c.maxQueuedBytesPerClient = maxQueuedBytes;
        c.maxTtlSec = maxTtl;
        c.maxOfflineSessions = maxOfflineSessions;
        c.seqOriginFromClock = switch (seqOrigin) {
            case "clock" -> true;
            case "zero" -> false;
            default -> throw new IllegalArgumentException("--seq-origin must be clock or zero, not '" + seqOrigin + "'");
        };
        c.writeBufferHighBytes = writeBufferHigh;
        c.writeBufferLowBytes = Math.max(1, writeBufferHigh / 2);
        c.maxConnections = maxConnections;
        c.maxConnectionsPerIp = maxConnectionsPerIp;
        c.acceptRatePerSec = acceptRate;
        c.tcpKeepalive = listener.tcpKeepalive;
        c.tcpKeepIdleSec = listener.tcpKeepIdle;
        c.tcpKeepIntervalSec = listener.tcpKeepIntvl;
        c.tcpKeepCount = listener.tcpKeepCnt;
        c.tcpUserTimeoutMs = tcpUserTimeoutMs;
        c.drainPeriodSec = drainPeriod;
        c.reconnectSpreadMs = reconnectSpread;
        return c;
    }

    private static void printBanner(PrintWriter out, ServerConfig cfg, GatewayServer g) {
        out.printf("switchboard server: clients on %s:%d (SWB/1, %s, %d event loops%s%s)%n", cfg.bind, g.port(),
                cfg.transport, cfg.eventLoops, cfg.reusePort ? ", SO_REUSEPORT" : "",
                cfg.acceptProxy ? ", PROXY header expected" : "");
        out.printf("switchboard server: backend API on http://%s:%d%s%n", cfg.apiBind, g.apiPort(),
                cfg.apiToken != null ? " (bearer token required)" : "");
        out.printf("switchboard server: auth %s; upstream %s%n", cfg.authenticator == Authenticator.NONE ? "none"
                : "jwt", cfg.upstream == io.switchboard.upstream.UpstreamSink.NONE ? "none (SEND answered NACK 503)"
                : "webhook");
        out.printf("switchboard server: limits: max-connections %d%s, hb %d s (%d-%d), window %d, queue %d msgs/%d B "
                        + "per client, payload %d B, line %d B%n",
                cfg.maxConnections, cfg.maxConnectionsPerIp > 0 ? ", per-ip " + cfg.maxConnectionsPerIp : "",
                cfg.heartbeatDefaultSec, cfg.heartbeatMinSec, cfg.heartbeatMaxSec, cfg.windowMessages,
                cfg.maxQueuedMessagesPerClient, cfg.maxQueuedBytesPerClient, cfg.maxPayloadBytes, cfg.maxLineBytes);
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
