package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.cli.Main;
import io.switchboard.server.GatewayFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Real runs of {@code switchboard bench} against an in-process gateway: with two worker processes (counts and
 * latencies merged into one report, pushes driven by the parent, a storm across both workers), in-process with a
 * storm, and a worker that outlives its parent.
 */
@Timeout(120)
class BenchWorkersTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final GatewayFixture gw = new GatewayFixture();
    @TempDir
    Path dir;

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    /** Polls every 10 ms, for at most 30 s (a worker JVM has to start first). */
    private static void awaitUpTo30s(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting until " + what);
            }
            LockSupport.parkNanos(10_000_000);
        }
    }

    private record Result(int exitCode, String out, JsonNode json) {
    }

    private Result bench(String... extra) throws Exception {
        Path json = dir.resolve("report.json");
        List<String> args = new ArrayList<>(List.of("bench", "--target", "127.0.0.1:" + gw.server().port(),
                "--api", "http://127.0.0.1:" + gw.server().apiPort(), "--event-loops", "1", "--json",
                json.toString()));
        args.addAll(List.of(extra));
        StringWriter out = new StringWriter();
        CommandLine cl = Main.newCommandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        int code = cl.execute(args.toArray(String[]::new));
        return new Result(code, out.toString(), Files.exists(json) ? JSON.readTree(json.toFile()) : null);
    }

    @Test
    void shouldMergeTwoWorkerProcessesIntoOneReportWithParentDrivenPushesAndAStorm() throws Exception {
        gw.start();
        Path html = dir.resolve("report.html");

        // Its own thread: the bench itself waits on the common pool, which has one thread on two cores.
        FutureTask<Result> run = new FutureTask<>(() -> bench("--workers", "2", "-c", "400", "--rate", "2000",
                "--hold", "2s", "--push-rate", "100", "--push-duration", "2s", "--push-warmup", "0s", "--storm",
                "--storm-wait", "30s", "--report", html.toString()));
        Thread.ofPlatform().name("bench-run").daemon().start(run);
        // Two workers whose ids overlapped would take each other's clients over in the ramp. The storm's
        // reconnections may legitimately count as takeovers (a client back before the server saw its old connection
        // close), so the count is read between the ramp and the storm (hold and pushes: 4 s).
        JsonNode afterRamp = null;
        while (afterRamp == null && !run.isDone()) {
            JsonNode s = gw.stats();
            if (s.get("handshakes_total").asLong() >= 400) {
                afterRamp = s;
            } else {
                LockSupport.parkNanos(10_000_000);
            }
        }
        if (afterRamp != null) {
            assertEquals(400, afterRamp.get("handshakes_total").asLong(), "read after the ramp, before the storm");
            assertEquals(0, afterRamp.get("takeovers_total").asLong(), "the two workers' client ids do not overlap");
        }
        Result r = run.get(110, TimeUnit.SECONDS);
        assertTrue(afterRamp != null, "the ramp's 400 handshakes were never seen: " + r.out());

        assertEquals(0, r.exitCode(), r.out());
        assertTrue(r.out().contains("starting 2 worker processes one after the other"), r.out());
        assertTrue(r.out().contains("2 worker processes (pids"), r.out());
        JsonNode j = r.json();
        assertEquals(2, j.get("workers").asInt());
        assertEquals(400, j.get("connections_established").asInt(), r.out());
        assertEquals(0, j.get("pushes_failed").asInt(), r.out());
        long sent = j.get("pushes_sent").asLong();
        assertTrue(sent >= 150, "100/s for 2 s: " + sent);
        // Latency is recorded in the workers; the parent only sent.
        assertEquals(sent, j.get("pushes_received").asLong(), r.out());
        assertTrue(j.get("push_latency_ms").get("p99.0").asDouble() > 0);
        assertEquals(400, j.get("storm").get("dropped").asInt(), r.out());
        assertEquals(400, j.get("storm").get("back").asInt(), r.out());
        assertTrue(j.get("storm").get("to_99_percent_back_ms").asDouble() > 0, r.out());
        assertEquals(400, j.get("open_at_end").asInt(), r.out());
        assertTrue(j.get("timeline").size() >= 3, "one sample per second");
        assertTrue(j.get("errors").isEmpty(), r.out());
        assertTrue(Files.readString(html).contains("<svg"));
        // The workers' closes may still be on their way through the gateway's loops when the bench returns.
        awaitUpTo30s(() -> gw.server().metrics().connectionsOpen.get() == 0,
                "the workers closed everything when they stopped");
        JsonNode server = gw.stats();
        assertEquals(800, server.get("handshakes_total").asLong(), "400 in the ramp, 400 after the storm");
        assertEquals(0, server.get("connections").asLong(), "the workers closed everything when they stopped");
    }

    @Test
    void shouldTimeSeveralBroadcastsEachOnceTheOneBeforeReachedEveryWorkersClients() throws Exception {
        gw.start();
        Result r = bench("--workers", "2", "-c", "100", "--rate", "2000", "--hold", "3s", "--broadcast",
                "--broadcasts", "3", "--broadcast-warmup", "1", "--broadcast-gap", "100ms");

        assertEquals(0, r.exitCode(), r.out());
        JsonNode j = r.json();
        assertEquals(300, j.get("broadcast_received").asLong(), "3 broadcasts to 100 clients: " + r.out());
        JsonNode each = j.get("broadcasts_last_arrival_ms");
        assertEquals(3, each.size(), r.out());
        for (JsonNode ms : each) {
            assertTrue(ms.asLong() >= 0, "each reached every client: " + r.out());
        }
        assertEquals(each.get(0).asLong(), j.get("broadcast_last_arrival_ms").asLong(), "the first");
        assertEquals(Math.max(each.get(1).asLong(), each.get(2).asLong()),
                j.get("broadcast_median_last_arrival_ms").asLong(), "the upper median of the two after the warm-up");
        assertTrue(r.out().contains("first " + each.get(0).asLong() + " ms, median of 2 after 1 not counted"), r.out());
        assertEquals(3, r.out().split("clients received it", -1).length - 1, "three broadcasts sent: " + r.out());
        assertTrue(r.out().contains("100/100 clients received it"), r.out());
    }

    @Test
    void shouldPublishEveryPushAsAStreamOfOneHttp2Connection() throws Exception {
        gw.start();
        Result r = bench("-c", "50", "--rate", "2000", "--hold", "3s", "--push-rate", "200", "--push-duration", "2s",
                "--push-warmup", "0s", "--publish-via", "http2");

        assertEquals(0, r.exitCode(), r.out());
        JsonNode j = r.json();
        assertEquals(0, j.get("pushes_failed").asInt(), r.out());
        long sent = j.get("pushes_sent").asLong();
        assertTrue(sent >= 300, r.out());
        assertEquals(sent, j.get("pushes_received").asLong(), r.out());
        assertEquals(sent, gw.stats().get("messages").get("pushes_accepted").asLong(), "each push accepted once: "
                + r.out());
    }

    @Test
    void shouldDropAndBringBackEveryConnectionInOneProcess() throws Exception {
        gw.start();

        Result r = bench("-c", "60", "--rate", "1000", "--hold", "0s", "--storm", "--storm-wait", "30s");

        assertEquals(0, r.exitCode(), r.out());
        JsonNode storm = r.json().get("storm");
        assertEquals(60, storm.get("dropped").asInt(), r.out());
        assertEquals(60, storm.get("back").asInt(), r.out());
        // Full jitter over the first second, then the handshake.
        assertTrue(storm.get("to_all_back_ms").asDouble() < 5_000, r.out());
        assertTrue(r.out().contains("storm: time until 99% / all back"), r.out());
        assertTrue(r.out().contains("accept queue drops during the ramp (host)"), r.out());
        assertEquals(60, r.json().get("open_at_end").asInt());
    }

    @Test
    void shouldExitByItselfWhenItsParentGoesAway() throws Exception {
        gw.start();
        List<String> cmd = new ArrayList<>(WorkerFleet.javaLauncher());
        cmd.addAll(WorkerSplit.childArgs(0, 1, 20, 0, 1000, 100, List.of(), java.time.Duration.ofSeconds(5),
                List.of("--target", "127.0.0.1:" + gw.server().port(), "--event-loops", "1")));
        Process worker = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            // Wait (bounded) until its clients are connected, then close its stdin as a dying parent would.
            awaitUpTo30s(() -> gw.server().guard().open() == 20, "the worker's 20 clients are connected");
            worker.getOutputStream().close();

            assertTrue(worker.waitFor(20, TimeUnit.SECONDS), "the worker exits when its parent's pipe closes");
            String out = new String(worker.getInputStream().readAllBytes());
            assertTrue(out.contains("\"phase\":\"done\""), out);
            awaitUpTo30s(() -> gw.server().guard().open() == 0, "its connections are closed");
        } finally {
            worker.destroyForcibly();
        }
    }
}
