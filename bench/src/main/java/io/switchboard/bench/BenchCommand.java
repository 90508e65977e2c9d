package io.switchboard.bench;

import io.switchboard.bench.protocol.BenchProtocol;
import io.switchboard.doctor.Doctor;
import io.switchboard.transport.Transport;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code switchboard bench}: opens, holds and measures many SWB/1 connections; optionally drives pushes through
 * the API and times a broadcast. Exit 0 when every connection was established, 1 otherwise, 2 on bad input.
 */
@Command(name = "bench", sortOptions = false, mixinStandardHelpOptions = true, abbreviateSynopsis = true,
        showDefaultValues = true,
        description = {"Open, hold and measure many SWB/1 connections against a Switchboard server.",
                "Phases: baseline readings (GET /v1/stats?gc=true), a paced connect ramp, a hold with optional "
                        + "pushes (--push-rate) and one broadcast (--broadcast), an optional reconnect storm "
                        + "(--storm), then a report (and --json, --report FILE.html).",
                "Above 15,000 connections the connections are held by worker processes (--workers) so that no "
                        + "process nears the open-file cap; this process drives the API and merges their counts.",
                "Push latency is measured from the intended send time written in each payload (no coordinated "
                        + "omission)."})
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The protocols Switchboard speaks, whose clients can receive pushes made through its API. */
    private static final java.util.List<String> SWITCHBOARD_PROTOCOLS = java.util.List.of("swb", "mqtt", "ws",
            "ws-mqtt");

    @Option(names = "--target", description = "Server address(es), HOST:PORT[,HOST:PORT...], used round-robin.")
    String target = "127.0.0.1:7000";
    @Option(names = "--protocol", description = "What the clients speak: swb (SWB/1), raw (connect and hold), mqtt "
            + "(3.1.1, subscribed to bench/<id>; against Switchboard's --mqtt-port pushes arrive on push/<id>), "
            + "redis (SUBSCRIBE bench:<id>), nats (SUB bench.<id>), ws (SWB/1 over WebSocket on /swb of "
            + "Switchboard's --ws-port) or ws-mqtt (MQTT over WebSocket on /mqtt).")
    String protocol = "swb";
    @Option(names = "--echo-check", description = "With --protocol raw: send 16 bytes every --hb seconds and check "
            + "that they come back (through a proxy to an echo server).")
    boolean echoCheck;
    @Option(names = {"-c", "--connections"}, description = "Connections to open and hold.")
    int connections = 1000;
    @Option(names = {"-R", "--rate"}, description = "New connections per second during the ramp.")
    int rate = 2000;
    @Option(names = "--ramp-up", description = "Grow the connect rate linearly from 0 to --rate over this time "
            + "(e.g. 30s), like a fleet coming online; 0s starts at full rate.")
    String rampUp = "0s";
    @Option(names = "--hold", description = "How long to hold the connections after the ramp (e.g. 60s, 5m).")
    String hold = "30s";
    @Option(names = "--id-prefix", description = "Client ids are PREFIX<n>.")
    String idPrefix = "bench-";
    @Option(names = "--id-offset", description = "First n of the client ids.")
    int idOffset = 0;
    @Option(names = "--hb", description = "Heartbeat each client asks for, seconds (it PINGs when idle that long).")
    int hb = 30;
    @Option(names = "--ack-every", description = "SWB/1 clients acknowledge at the end of a read batch once this many "
            + "messages wait (the client library's default)...")
    int ackEvery = io.switchboard.bench.protocol.BenchProtocol.DEFAULT_ACK_EVERY;
    @Option(names = "--ack-delay", description = "... else this long after the oldest unacknowledged one (the "
            + "library's default); 0s acknowledges every read batch at once.")
    String ackDelay = io.switchboard.bench.protocol.BenchProtocol.DEFAULT_ACK_DELAY_MS + "ms";
    @Option(names = "--source", description = "Local source addresses: 127.0.0.2-127.0.0.50,127.0.1.1 "
            + "(IP_BIND_ADDRESS_NO_PORT; each address has its own ports).")
    String source;
    @Option(names = "--transport", description = "epoll, io_uring or nio.")
    String transport = "epoll";
    @Option(names = "--event-loops", description = "Client event loops.")
    int eventLoops = Runtime.getRuntime().availableProcessors();
    @Option(names = "--api", description = "The server's API, for pushes, broadcast and cost readings; 'none' to skip.")
    String api = "http://127.0.0.1:8080";
    @Option(names = "--api-token", description = "Bearer token for --api.")
    String apiToken;
    @Option(names = "--push-rate", description = "Pushes per second to random clients through the API; 0 = none.")
    int pushRate = 0;
    @Option(names = "--push-concurrency", description = "API pushes in flight at most (each waits for its answer; "
            + "the JDK's HTTP client opens up to this many API connections). Pushes per second are at most this "
            + "many per answer time: 64 answered in 116 ms each allow at most 550 pushes/s.")
    int pushConcurrency = PushDriver.DEFAULT_PUSHES_IN_FLIGHT;
    @Option(names = "--publish-via", description = "Make the --push-rate pushes through a peer's own protocol "
            + "instead of Switchboard's API, on the first --target: redis (PUBLISH bench:<id>), nats (PUB bench.<id>) "
            + "or mqtt (PUBLISH bench/<id>, QoS 0), the same as --protocol; or http: Switchboard's --api, its pushes "
            + "pipelined on one HTTP/1.1 connection as the peers' are; or http2: the same pushes as "
            + "streams of one HTTP/2 connection (prior knowledge). For side-by-side latency with the peers.")
    String publishVia;
    @Option(names = "--push-duration", description = "How long to push (within --hold).")
    String pushDuration = "20s";
    @Option(names = "--push-warmup", description = "Pushes sent first and not measured (JIT, connection pools).")
    String pushWarmup = "5s";
    @Option(names = "--broadcast", description = "Time a broadcast reaching every client (--broadcasts of them): "
            + "through the API, or with --publish-via through that protocol (the peers' clients then also subscribe "
            + "to bench:all, bench.all or bench/all).")
    boolean broadcast;
    @Option(names = "--broadcasts", description = "How many broadcasts --broadcast sends, each --broadcast-gap after "
            + "the one before reached every client: the first and the median are reported (the first after a "
            + "server's start runs its code cold; the others show it warm, as a long-running server's are).")
    int broadcasts = 1;
    @Option(names = "--broadcast-warmup", description = "Of --broadcasts, how many come first and are left out of "
            + "the median (a JVM server's JIT compiles its broadcast loop over its first few broadcasts; the first is "
            + "still reported on its own).")
    int broadcastWarmup;
    @Option(names = "--broadcast-gap", description = "With --broadcasts: the pause after one broadcast reached every "
            + "client before the next is sent.")
    String broadcastGap = "2s";
    @Option(names = "--server-pid", split = ",", description = "Server process ids to read RSS from (/proc/PID/status).")
    List<Long> serverPids = new ArrayList<>();
    @Option(names = "--connect-timeout", description = "Connect timeout.")
    String connectTimeout = "10s";
    @Option(names = "--max-pending-connects", description = "Connects in flight at once.")
    int maxPendingConnects = 2000;
    @Option(names = "--json", description = "Also write the report as JSON to this file (with a timeline: one "
            + "sample per second).")
    Path json;
    @Option(names = "--report", paramLabel = "FILE.html", description = "Also write a self-contained HTML page: "
            + "charts of connections and push latency over time, the push-latency percentile curve, the report table.")
    Path html;
    @Option(names = "--workers", paramLabel = "auto|N", description = "Processes holding the connections: 'auto' = 1 "
            + "up to 15,000 connections, else one per 15,000 (each process stays well under a 20,000 open-file "
            + "cap). With N > 1 this process starts N workers of the same program one after the other (each ramps "
            + "at the whole --rate once the one before is done; none is started while the machine has under 1 GiB "
            + "available), drives pushes and broadcast itself and merges their counts and latencies.")
    String workers = "auto";
    @Option(names = "--storm", description = "After the pushes and broadcast, drop every connection at once and "
            + "reconnect them with exponential backoff and full jitter (base 1 s, cap 60 s, or the server's BYE "
            + "retry=); reports the time until 99%% are back and the accept-queue drops (/proc/net/netstat).")
    boolean storm;
    @Option(names = "--storm-wait", description = "How long to wait for the storm's connections to come back.")
    String stormWait = "3m";
    /** Set by a --workers parent on the processes it starts (their number, from 1); 0 = not a worker. */
    @Option(names = "--as-worker", hidden = true)
    int asWorker;
    /** Set by a --workers parent timing a peer's broadcast: the clients also subscribe to the broadcast channel. */
    @Option(names = "--subscribe-broadcast", hidden = true)
    boolean subscribeBroadcast;

    /** The parent's options a worker does not get as they are: the work split, the API side, the outputs. */
    static final Set<String> NOT_FOR_WORKERS = Set.of("--workers", "--as-worker", "--connections", "--rate",
            "--id-offset", "--source", "--max-pending-connects", "--storm", "--storm-wait", "--hold", "--api",
            "--api-token", "--push-rate", "--push-concurrency", "--publish-via", "--push-duration", "--push-warmup",
            "--broadcast", "--broadcasts", "--broadcast-warmup", "--broadcast-gap", "--server-pid", "--json",
            "--report");

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BenchRun.Plan plan;
        try {
            plan = plan();
        } catch (IllegalArgumentException | IllegalStateException e) { // bad input, or a transport not available here
            err.println("switchboard bench: " + e.getMessage());
            err.flush();
            return 2;
        }
        if (!plan.isWorker()) {
            // Limits apply per process: with workers, each holds its share.
            int perProcess = WorkerSplit.share(connections, plan.workers(), 0);
            // Each process's source addresses: its own slice when there are as many as processes, else all of them.
            int processes = Math.max(1, plan.workers());
            int sources = plan.sources().isEmpty() ? 1 : plan.sources().size() >= processes
                    ? plan.sources().size() / processes : plan.sources().size();
            Doctor.startupWarning("client", perProcess, sources, plan.targets().size()).ifPresent(w -> {
                err.println("switchboard bench: warning: " + w);
                err.flush();
            });
        }
        return new BenchRun(plan, out).run();
    }

    /** {@code --api} as a base URI: http(s)://host[:port][/path]. */
    static URI apiUri(String api) {
        URI u;
        try {
            u = new URI(api.endsWith("/") ? api : api + "/");
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("--api '" + api + "' is not a URL: " + e.getReason());
        }
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
            throw new IllegalArgumentException("--api '" + api + "' must be a URL such as http://127.0.0.1:8080 "
                    + "(or 'none')");
        }
        return u;
    }

    BenchRun.Plan plan() {
        if (connections < 1) {
            throw new IllegalArgumentException("--connections must be at least 1");
        }
        if (pushConcurrency < 1 || pushConcurrency > 10_000) {
            throw new IllegalArgumentException("--push-concurrency must be 1 to 10000, not " + pushConcurrency);
        }
        if (rate < 1 || hb < 0 || pushRate < 0 || eventLoops < 1 || maxPendingConnects < 1) {
            throw new IllegalArgumentException("--rate, --event-loops and --max-pending-connects must be positive; "
                    + "--hb and --push-rate not negative");
        }
        // A broadcast through a peer reaches the clients subscribed to its broadcast channel: all of them.
        boolean peerBroadcast = subscribeBroadcast || broadcast && publishVia != null && !publishVia.startsWith("http");
        BenchProtocol proto = BenchProtocol.parse(protocol, echoCheck, hb, peerBroadcast, ackEvery,
                BenchArgs.duration(ackDelay).toMillis());
        if (publishVia != null) {
            boolean http = publishVia.equals("http") || publishVia.equals("http2");
            if (!(PeerPublisher.PROTOCOLS.contains(publishVia) || publishVia.equals("http2")) || (http ? api == null || api.equals("none")
                    || !SWITCHBOARD_PROTOCOLS.contains(protocol) : !publishVia.equals(protocol))) {
                throw new IllegalArgumentException("--publish-via takes redis, nats or mqtt (the same as --protocol), "
                        + "or http / http2 (Switchboard's --api on one connection: HTTP/1.1 pipelined, or HTTP/2 streams), "
                        + "not '" + publishVia + "'");
            }
        } else if (!SWITCHBOARD_PROTOCOLS.contains(protocol) && (pushRate > 0 || broadcast)) {
            throw new IllegalArgumentException("--push-rate and --broadcast go through Switchboard's API, or a peer's "
                    + "protocol with --publish-via: they need --protocol " + String.join(", ", SWITCHBOARD_PROTOCOLS)
                    + " against Switchboard, or --publish-via " + protocol);
        }
        int workerCount = asWorker > 0 ? 1 : WorkerSplit.workers(workers, connections);
        if (broadcasts < 1 || broadcasts > 100) {
            throw new IllegalArgumentException("--broadcasts must be 1-100, got " + broadcasts);
        }
        if (broadcastWarmup < 0 || broadcastWarmup >= broadcasts) {
            throw new IllegalArgumentException("--broadcast-warmup must be 0 to --broadcasts - 1 (" + (broadcasts - 1)
                    + "), got " + broadcastWarmup);
        }
        Duration stormWaitDuration = BenchArgs.duration(stormWait);
        if (stormWaitDuration.toMillis() < 1000) {
            throw new IllegalArgumentException("--storm-wait must be at least 1s");
        }
        Transport t = Transport.parse(transport);
        t.ensureAvailable();
        URI apiUri = api == null || api.equals("none") ? null : apiUri(api);
        return new BenchRun.Plan(BenchArgs.targets(target), BenchArgs.sources(source), connections, rate,
                BenchArgs.duration(hold), idPrefix, idOffset, hb, t, eventLoops, apiUri,
                apiToken, pushRate, BenchArgs.duration(pushDuration), BenchArgs.duration(pushWarmup),
                broadcast ? broadcasts : 0, serverPids,
                BenchArgs.duration(connectTimeout), maxPendingConnects, json, proto, workerCount,
                workerCount > 1 ? workerArgs(peerBroadcast) : List.of(), asWorker, storm, stormWaitDuration, html,
                BenchArgs.duration(rampUp), publishVia, pushConcurrency, BenchArgs.duration(broadcastGap),
                broadcastWarmup);
    }

    /** What every worker is given besides its share: {@link #workerPassThrough}, and the broadcast subscription. */
    private List<String> workerArgs(boolean peerBroadcast) {
        List<String> args = workerPassThrough();
        if (peerBroadcast && !args.contains("--subscribe-broadcast")) {
            args.add("--subscribe-broadcast");
        }
        return args;
    }

    /**
     * The options given on this command line that a worker takes over unchanged (--target, --protocol, --hb, ...),
     * as they were typed; everything in {@link #NOT_FOR_WORKERS} is left to the parent or set per worker.
     */
    List<String> workerPassThrough() {
        ParseResult parsed = spec == null ? null : spec.commandLine().getParseResult();
        List<String> args = new ArrayList<>();
        if (parsed == null) {
            return args;
        }
        for (OptionSpec o : parsed.matchedOptions()) {
            String name = o.longestName();
            if (o.usageHelp() || o.versionHelp() || NOT_FOR_WORKERS.contains(name)) {
                continue;
            }
            List<String> values = o.originalStringValues();
            if (o.arity().max() == 0 || values.isEmpty()) {
                args.add(name); // a flag: its presence is the value ("--echo-check", not "--echo-check true")
                continue;
            }
            for (String v : values) {
                args.add(name);
                args.add(v);
            }
        }
        return args;
    }
}
