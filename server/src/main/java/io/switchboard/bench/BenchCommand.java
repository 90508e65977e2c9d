package io.switchboard.bench;

import io.switchboard.doctor.Doctor;
import io.switchboard.transport.Transport;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code switchboard bench}: opens, holds and measures many SWB/1 connections; optionally drives pushes through
 * the API and times a broadcast. Exit 0 when every connection was established, 1 otherwise, 2 on bad input.
 */
@Command(name = "bench", sortOptions = false, mixinStandardHelpOptions = true, abbreviateSynopsis = true,
        showDefaultValues = true,
        description = {"Open, hold and measure many SWB/1 connections against a Switchboard server.",
                "Phases: baseline readings (GET /v1/stats?gc=true), a paced connect ramp, a hold with optional "
                        + "pushes (--push-rate) and one broadcast (--broadcast), then a report.",
                "Push latency is measured from the intended send time written in each payload (no coordinated "
                        + "omission)."})
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--target", description = "Server address(es), HOST:PORT[,HOST:PORT...], used round-robin.")
    String target = "127.0.0.1:7000";
    @Option(names = {"-c", "--connections"}, description = "Connections to open and hold.")
    int connections = 1000;
    @Option(names = {"-R", "--rate"}, description = "New connections per second during the ramp.")
    int rate = 2000;
    @Option(names = "--hold", description = "How long to hold the connections after the ramp (e.g. 60s, 5m).")
    String hold = "30s";
    @Option(names = "--id-prefix", description = "Client ids are PREFIX<n>.")
    String idPrefix = "bench-";
    @Option(names = "--id-offset", description = "First n of the client ids.")
    int idOffset = 0;
    @Option(names = "--hb", description = "Heartbeat each client asks for, seconds (it PINGs when idle that long).")
    int hb = 30;
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
    @Option(names = "--push-duration", description = "How long to push (within --hold).")
    String pushDuration = "20s";
    @Option(names = "--push-warmup", description = "Pushes sent first and not measured (JIT, connection pools).")
    String pushWarmup = "5s";
    @Option(names = "--broadcast", description = "Time one broadcast reaching every client.")
    boolean broadcast;
    @Option(names = "--server-pid", split = ",", description = "Server process ids to read RSS from (/proc/PID/status).")
    List<Long> serverPids = new ArrayList<>();
    @Option(names = "--connect-timeout", description = "Connect timeout.")
    String connectTimeout = "10s";
    @Option(names = "--max-pending-connects", description = "Connects in flight at once.")
    int maxPendingConnects = 2000;
    @Option(names = "--json", description = "Also write the report as JSON to this file.")
    Path json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BenchRun.Plan plan;
        try {
            plan = plan();
        } catch (IllegalArgumentException e) {
            err.println("switchboard bench: " + e.getMessage());
            err.flush();
            return 2;
        }
        Doctor.startupWarning("client", connections).ifPresent(w -> {
            err.println("switchboard bench: warning: " + w);
            err.flush();
        });
        return new BenchRun(plan, out).run();
    }

    BenchRun.Plan plan() {
        if (connections < 1) {
            throw new IllegalArgumentException("--connections must be at least 1");
        }
        if (rate < 1 || hb < 0 || pushRate < 0 || eventLoops < 1 || maxPendingConnects < 1) {
            throw new IllegalArgumentException("--rate, --event-loops and --max-pending-connects must be positive; "
                    + "--hb and --push-rate not negative");
        }
        Transport t = Transport.parse(transport);
        t.ensureAvailable();
        URI apiUri = api == null || api.equals("none") ? null : URI.create(api.endsWith("/") ? api : api + "/");
        return new BenchRun.Plan(BenchArgs.targets(target), BenchArgs.sources(source), connections, rate,
                BenchArgs.duration(hold), idPrefix, idOffset, hb, t, eventLoops, apiUri,
                apiToken, pushRate, BenchArgs.duration(pushDuration), BenchArgs.duration(pushWarmup), broadcast,
                serverPids,
                BenchArgs.duration(connectTimeout), maxPendingConnects, json);
    }
}
