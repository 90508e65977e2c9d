package io.switchboard.server;

import io.switchboard.auth.Authenticator;
import io.switchboard.clock.ManualClock;
import io.switchboard.upstream.UpstreamSink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.config.GatewayServices;
import io.switchboard.config.ServerConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One in-process gateway for one test: a config to adjust before {@link #start()}, a manual clock, the API client
 * and every SWB/1 client the test opened; {@link #close()} closes them all. Not thread-safe.
 */
public final class GatewayFixture implements AutoCloseable {
    /** A whole second, so that advancing by seconds lands on tick boundaries. */
    public static final long START_MS = 1_700_000_000_000L;
    /**
     * How long {@link #await} waits: a condition met is returned at once, so this costs only a failing test; what
     * goes through several threads and a real-time sweep has taken over 5 s on a loaded 2-core machine.
     */
    private static final long CONDITION_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    public final ManualClock clock = new ManualClock(START_MS);
    /** Adjust before {@link #start()}. */
    public final ServerConfig.Builder config = new ServerConfig.Builder();
    /** Who may connect and where SENDs go; replace before {@link #start()}. */
    public Authenticator authenticator = Authenticator.NONE;
    public UpstreamSink upstream = UpstreamSink.NONE;
    private final List<SwbTestClient> clients = new ArrayList<>();
    private GatewayServer server;
    private ApiClient api;

    public GatewayFixture() {
        config.bind = "127.0.0.1";
        config.port = 0;
        config.apiBind = "127.0.0.1";
        config.apiPort = 0;
        config.seqOriginFromClock = false; // seq 1, 2, 3 keeps expectations readable; the clock origin has its own tests
        // The default store (disk), in a directory of this fixture's own: the tests run on what users run.
        try {
            dataDir = java.nio.file.Files.createTempDirectory("swb-fixture-data");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        config.dataDir = dataDir.toString();
    }

    /** The disk store's directory (deleted on {@link #close()}). */
    public final java.nio.file.Path dataDir;

    public GatewayFixture start() throws InterruptedException {
        server = GatewayServer.start(config.build(), new GatewayServices(authenticator, upstream, clock));
        api = new ApiClient(server.apiPort(), server.config().apiToken);
        return this;
    }

    public GatewayServer server() {
        return server;
    }

    public ApiClient api() {
        return api;
    }

    public SwbTestClient connect() throws IOException {
        return connectFrom(null);
    }

    /** Connects from the given local address (e.g. {@code 127.0.0.2}); null for the default. */
    public SwbTestClient connectFrom(String localAddress) throws IOException {
        SwbTestClient c = SwbTestClient.connect("127.0.0.1", server.port(), localAddress);
        clients.add(c);
        return c;
    }

    /** Connects with a small socket receive buffer, for a client that reads slowly. */
    public SwbTestClient connectWithReceiveBuffer(int receiveBufferBytes) throws IOException {
        SwbTestClient c = SwbTestClient.connect("127.0.0.1", server.port(), null, receiveBufferBytes);
        clients.add(c);
        return c;
    }

    /** Connects and completes the handshake. */
    public SwbTestClient hello(String clientId, String... options) throws IOException {
        SwbTestClient c = connect();
        c.hello(clientId, options);
        return c;
    }

    /** Moves the clock forward and runs one timer tick on every loop, waiting for it. */
    public void advanceSec(long sec) throws InterruptedException {
        clock.advanceSec(sec);
        server.tickNow();
    }

    /** Pushes one raw payload through the API and returns the answer. */
    public ApiClient.Response push(String clientId, String payload) throws IOException, InterruptedException {
        return api.post("/v1/clients/" + clientId + "/messages", payload);
    }

    /** GET /v1/clients/{id}, expecting 200. */
    public JsonNode clientInfo(String clientId) throws IOException, InterruptedException {
        ApiClient.Response r = api.get("/v1/clients/" + clientId);
        assertEquals(200, r.status(), r.body());
        return r.json();
    }

    /** GET /v1/stats, expecting 200. */
    public JsonNode stats() throws IOException, InterruptedException {
        ApiClient.Response r = api.get("/v1/stats");
        assertEquals(200, r.status(), r.body());
        return r.json();
    }

    /** Asserts a refusal counter both in {@code /v1/stats} and in {@code /metrics}. */
    public void assertRefusals(String reason, long expected) throws IOException, InterruptedException {
        assertEquals(expected, stats().path("refusals").path(reason).asLong(-1),
                "refusals." + reason + " in /v1/stats");
        ApiClient.Response m = api.get("/metrics");
        assertEquals(200, m.status());
        String line = "switchboard_refusals_total{reason=\"" + reason + "\"} " + expected;
        if (!m.body().lines().anyMatch(line::equals)) {
            fail("/metrics lacks '" + line + "':\n" + m.body());
        }
    }

    /**
     * Waits, boundedly, for a condition that the server reaches on its own threads with no frame to show it
     * (such as a socket's close having been processed). Yields instead of sleeping; fails after 5 s.
     */
    /** Waits until the server has seen client {@code id}'s connection end (its session kept offline). */
    public void awaitOffline(String id) {
        await(() -> {
            try {
                return !clientInfo(id).get("online").asBoolean();
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, id + " offline");
    }

    public static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + CONDITION_TIMEOUT_NS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting until " + what);
            }
            // A millisecond's sleep, not a spin: the threads it waits for share two cores with it.
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }

    @Override
    public void close() {
        stop();
        try (var files = java.nio.file.Files.walk(dataDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException e) {
            // a temporary directory: left for the system to clean (a file the store removed during the walk ends it)
        }
    }

    /** Stops the gateway as {@link GatewayServer#close()} does and starts a new one on the same settings and data. */
    public GatewayFixture restart() throws InterruptedException {
        stop();
        config.port = 0;
        config.apiPort = 0;
        return start();
    }

    private void stop() {
        clients.forEach(SwbTestClient::close);
        clients.clear();
        if (api != null) {
            api.close();
            api = null;
        }
        if (server != null) {
            server.close();
            server = null;
        }
    }
}
