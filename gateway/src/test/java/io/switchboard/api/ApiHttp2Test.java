package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.FullHttpResponse;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import io.switchboard.server.GatewayFixture;
import io.switchboard.service.PushResult;
import io.switchboard.transport.Transport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * HTTP/2 on the API's plain port: prior knowledge and {@code Upgrade: h2c}, each request a stream answered by the
 * same handler as HTTP/1.1; the connection may idle, each stream has its own body deadline. Real sockets, fake
 * services, the deadlines' clock driven by the test.
 */
@Timeout(30)
class ApiHttp2Test {
    private static final int HEADER_TIMEOUT_SEC = 10;
    private static final int BODY_TIMEOUT_SEC = 30;

    private final GatewayMetrics metrics = new GatewayMetrics();
    private final AtomicLong nowNs = new AtomicLong(1_000_000_000L);
    private final ApiHandlerTest.FakePush push = new ApiHandlerTest.FakePush();
    private ApiServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start() throws InterruptedException {
        ApiSettings settings = new ApiSettings("127.0.0.1", 0, Transport.NIO, null, 1024, 3600, 10,
                HEADER_TIMEOUT_SEC, BODY_TIMEOUT_SEC);
        server = ApiServer.start(settings, push, new ApiHandlerTest.FakeAdmin(), metrics, nowNs::get);
    }

    private void advanceSecAndSweep(long sec) throws Exception {
        nowNs.addAndGet(TimeUnit.SECONDS.toNanos(sec));
        server.sweepNow();
    }

    private static String body(FullHttpResponse res) {
        try {
            return res.content().toString(StandardCharsets.UTF_8);
        } finally {
            res.release();
        }
    }

    private static int status(CompletableFuture<FullHttpResponse> answer) throws Exception {
        FullHttpResponse res = answer.get(5, TimeUnit.SECONDS);
        int status = res.status().code();
        res.release();
        return status;
    }

    @Test
    void aRequestRefusedWhileItsBodyIsStillComingIsAnsweredThenResetWithNoError() throws Exception {
        start();
        try (H2TestClient h2 = new H2TestClient(server.port())) {
            CompletableFuture<Long> reset = new CompletableFuture<>();
            FullHttpResponse res = h2.sendUnfinished("/v1/clients/a/messages", 70_000_000L, new byte[1024], reset)
                    .get(5, TimeUnit.SECONDS);
            assertEquals(413, res.status().code());
            assertTrue(body(res).contains("\"status\":413"));
            // RFC 9113 8.1: the answer is whole; NO_ERROR asks the client to stop sending without error (CANCEL,
            // from a plain close, may make it drop the answer).
            assertEquals(0L, reset.get(5, TimeUnit.SECONDS), "RST_STREAM NO_ERROR, not CANCEL (8)");
            assertTrue(h2.isOpen(), "the connection goes on");
        }
    }

    @Test
    void aStreamWithoutTheTokenEndsItsConnectionAsOverHttp11() throws Exception {
        server = ApiServer.start(new ApiSettings("127.0.0.1", 0, Transport.NIO, "s3cret", 1024, 3600, 10,
                HEADER_TIMEOUT_SEC, BODY_TIMEOUT_SEC), push, new ApiHandlerTest.FakeAdmin(), metrics, nowNs::get);
        try (H2TestClient h2 = new H2TestClient(server.port())) {
            assertEquals(200, status(h2.send("GET", "/healthz", null)), "a health check needs no token");
            assertEquals(401, status(h2.send("GET", "/v1/stats", null)));
            GatewayFixture.await(() -> !h2.isOpen(), "the connection is closed after the 401");
            GatewayFixture.await(() -> server.openConnections() == 0, "and its place under --api-max-connections freed");
        }
    }

    @Test
    void aPeerThatGrantsNoFlowControlWindowForItsAnswersIsClosedAfterTheBodyTimeout() throws Exception {
        // Its answers cannot be sent: its streams never end, and a peer without the token held its connection (and
        // up to --api-max-streams streams on it) for ever, its 401 never written; every backend then got 503.
        server = ApiServer.start(new ApiSettings("127.0.0.1", 0, Transport.NIO, "s3cret", 1024, 3600, 10,
                HEADER_TIMEOUT_SEC, BODY_TIMEOUT_SEC), push, new ApiHandlerTest.FakeAdmin(), metrics, nowNs::get);
        try (H2TestClient h2 = new H2TestClient(server.port(), 0)) {
            h2.send("GET", "/v1/stats", null);
            GatewayFixture.await(() -> server.openStreams() == 1, "the stream is open on the server");
            server.sweepNow();
            advanceSecAndSweep(BODY_TIMEOUT_SEC + 1); // a stream whose answer is late: its window looked at
            GatewayFixture.await(() -> server.openConnections() == 1, "the look taken");
            advanceSecAndSweep(BODY_TIMEOUT_SEC - 1);
            assertEquals(1, server.openConnections(), "not before its answer waited the body timeout");
            advanceSecAndSweep(1);
            GatewayFixture.await(() -> server.openConnections() == 0, "closed: its answer could not be sent for "
                    + BODY_TIMEOUT_SEC + " s");
            assertTrue(metrics.refusals(Refusal.API_TIMEOUT) >= 1, "counted as an api_timeout");
        }
    }

    @Test
    void shouldServeRequestsAsStreamsOverOneConnectionWithPriorKnowledge() throws Exception {
        start();
        try (H2TestClient h2 = new H2TestClient(server.port())) {
            FullHttpResponse health = h2.send("GET", "/healthz", null).get(5, TimeUnit.SECONDS);
            assertEquals(200, health.status().code());
            assertFalse(health.headers().contains("connection"), "no HTTP/1 connection header over HTTP/2");
            assertTrue(body(health).contains("\"ok\""));

            CompletableFuture<FullHttpResponse> pushed = h2.send("POST", "/v1/clients/a/messages", "hello");
            GatewayFixture.await(() -> push.calls.contains("push a hello ttl=0"), "the push reached the service");
            push.complete(PushResult.accepted(42, true));
            FullHttpResponse ok = pushed.get(5, TimeUnit.SECONDS);
            assertEquals(200, ok.status().code());
            assertEquals("{\"seq\":42,\"delivered\":true}", body(ok));

            FullHttpResponse missing = h2.send("GET", "/v1/nothing", null).get(5, TimeUnit.SECONDS);
            assertEquals(404, missing.status().code());
            assertTrue(body(missing).contains("no such endpoint"));
            assertEquals(1, server.openConnections(), "one connection carried every request");
        }
    }

    @Test
    void shouldAnswer503OnAStreamWhoseBodyPassesTheMemoryBodiesShareAndServeTheConnectionOn() throws Exception {
        server = ApiServer.start(new ApiSettings("127.0.0.1", 0, Transport.NIO, null, 1024, 3600, 10,
                HEADER_TIMEOUT_SEC, BODY_TIMEOUT_SEC, ApiSettings.DEFAULT_IDLE_TIMEOUT_SEC,
                ApiSettings.DEFAULT_MAX_STREAMS, null, 100 * 1024), push, new ApiHandlerTest.FakeAdmin(), metrics,
                nowNs::get);
        try (H2TestClient h2 = new H2TestClient(server.port())) {
            // No content-length on HTTP/2: counted frame by frame, and cut off past the 100 KiB.
            FullHttpResponse cut = h2.send("POST", "/v1/broadcast", "x".repeat(150 * 1024)).get(5, TimeUnit.SECONDS);
            assertEquals(503, cut.status().code());
            assertTrue(body(cut).contains("--api-max-body-memory"));
            assertEquals(1, metrics.refusals(Refusal.API_BODY_MEMORY));
            GatewayFixture.await(() -> server.bodyBytesArriving() == 0, "the stream's bytes given back");
            assertEquals(200, status(h2.send("GET", "/healthz", null)), "the connection serves on");
        }
    }

    @Test
    void shouldCloseAnHttp2ConnectionIdleForTheIdleTimeoutButNotWhileAStreamIsOpen() throws Exception {
        start();
        try (H2TestClient h2 = new H2TestClient(server.port())) {
            CompletableFuture<FullHttpResponse> pushed = h2.send("POST", "/v1/clients/a/messages", "hello");
            GatewayFixture.await(() -> push.calls.contains("push a hello ttl=0"), "the push reached the service");
            advanceSecAndSweep(ApiSettings.DEFAULT_IDLE_TIMEOUT_SEC * 2);
            assertTrue(h2.isOpen(), "a connection with a stream in progress is not idle");
            push.complete(PushResult.accepted(42, true));
            assertEquals(200, status(pushed));
            GatewayFixture.await(() -> server.openStreams() == 0, "the finished stream is forgotten");

            advanceSecAndSweep(ApiSettings.DEFAULT_IDLE_TIMEOUT_SEC - 1);
            assertTrue(h2.isOpen(), "idle from its last stream on");
            advanceSecAndSweep(1);
            GatewayFixture.await(() -> !h2.isOpen(), "idle for --api-idle-timeout: closed");
            assertEquals(1, metrics.apiIdleClosed.sum());
            assertEquals(0, metrics.refusals(Refusal.API_TIMEOUT));
        }
    }

    @Test
    void shouldKeepAnIdleHttp2ConnectionButTimeOutAStreamWhoseBodyNeverComes() throws Exception {
        start();
        try (H2TestClient h2 = new H2TestClient(server.port())) {
            assertEquals(200, status(h2.send("GET", "/healthz", null)));
            advanceSecAndSweep(HEADER_TIMEOUT_SEC * 3);
            assertTrue(h2.isOpen(), "an HTTP/2 connection between requests is idle, not late");
            assertEquals(0, metrics.apiIdleClosed.sum());
            assertEquals(0, metrics.refusals(Refusal.API_TIMEOUT));

            CompletableFuture<Long> reset = new CompletableFuture<>();
            CompletableFuture<FullHttpResponse> stuck = h2.sendUnfinished("/v1/clients/a/messages", 100,
                    new byte[10], reset);
            GatewayFixture.await(() -> server.openStreams() == 1, "the stream is open on the server");
            server.sweepNow(); // a turn of the API loop: the stream's headers, read with its opening, are taken
            advanceSecAndSweep(BODY_TIMEOUT_SEC - 1);
            assertFalse(stuck.isDone());
            advanceSecAndSweep(1);
            FullHttpResponse late = stuck.get(5, TimeUnit.SECONDS);
            assertEquals(408, late.status().code());
            assertTrue(body(late).contains("--api-body-timeout"));
            assertEquals(1, metrics.refusals(Refusal.API_TIMEOUT));
            // RFC 9113 8.1: the 408 is whole; NO_ERROR ends the stream without asking the client to drop it (CANCEL)
            assertEquals(0L, reset.get(5, TimeUnit.SECONDS), "RST_STREAM NO_ERROR, not CANCEL (8)");

            assertTrue(h2.isOpen(), "only the late stream ended");
            assertEquals(200, status(h2.send("GET", "/healthz", null)));
            GatewayFixture.await(() -> server.openStreams() == 0, "finished streams are forgotten");
        }
    }

    @Test
    void shouldCloseAnHttp2ConnectionWhoseClientShutsItsOutputDown() throws Exception {
        start();
        try (H2TestClient h2 = new H2TestClient(server.port())) {
            assertEquals(200, status(h2.send("GET", "/healthz", null)));
            assertEquals(1, server.openConnections());
            h2.shutdownOutput();
            GatewayFixture.await(() -> server.openConnections() == 0, "the half-closed connection is closed");
        }
    }

    @Test
    void shouldServeOverHttp11AnUpgradeRequestWhoseBodyIsTooLargeToHoldForTheSwitch() throws Exception {
        start();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        HttpResponse<String> first = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.port() + "/v1/nothing")).POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, first.statusCode(), "answered by the API, not refused by the upgrade: " + first.body());
    }

    @Test
    void shouldUpgradeAnHttp11ConnectionThatAsksForH2c() throws Exception {
        start();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        HttpResponse<String> first = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.port() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, first.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, first.version(), "the JDK client upgraded with Upgrade: h2c");
        HttpResponse<String> second = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.port() + "/v1/nothing")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, second.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, second.version());
        assertEquals(1, server.openConnections());
    }
}
