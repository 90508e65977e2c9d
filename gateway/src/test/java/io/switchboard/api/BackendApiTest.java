package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.server.ApiClient;
import io.switchboard.server.GatewayFixture;
import io.switchboard.server.SwbTestClient;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The backend-facing HTTP API against a real gateway: batches, topics, broadcast, disconnect, errors, stats. */
@Timeout(30)
class BackendApiTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    // ---- batch

    @Test
    void shouldAnswerBatchPushWithOneResultPerItemInRequestOrder() throws Exception {
        gw.start();
        SwbTestClient a = gw.hello("a");
        ApiClient.Response r = gw.api().post("/v1/messages",
                "{\"messages\":[{\"client\":\"a\",\"payload\":\"x\"},{\"client\":\"zz\",\"payload\":\"y\"}]}");
        assertEquals(200, r.status(), r.body());
        JsonNode results = r.json().get("results");
        assertEquals(2, results.size());
        assertEquals("a", results.get(0).get("client").asText());
        assertEquals(200, results.get(0).get("status").asInt());
        assertEquals(1, results.get(0).get("seq").asLong());
        assertTrue(results.get(0).get("delivered").asBoolean());
        assertEquals("zz", results.get(1).get("client").asText());
        assertEquals(404, results.get(1).get("status").asInt());
        assertFalse(results.get(1).get("error").asText().isEmpty());
        assertEquals(1, r.json().get("accepted").asInt());
        assertEquals(1, r.json().get("refused").asInt());

        SwbTestClient.Msg m = a.readMsg();
        assertEquals(1, m.seq());
        assertEquals("x", m.text());
    }

    @Test
    void shouldKeepNoMoreOfflineSessionsThanTheLimitFromOneBatch() throws Exception {
        gw.config.maxOfflineSessions = 10;
        gw.start();
        StringBuilder body = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < 100; i++) {
            body.append(i == 0 ? "" : ",").append("{\"client\":\"unknown-").append(i)
                    .append("\",\"payload\":\"x\",\"ttl\":600}");
        }
        ApiClient.Response r = gw.api().post("/v1/messages", body.append("]}").toString());
        assertEquals(200, r.status(), r.body());
        assertEquals(10, r.json().get("accepted").asInt(), "the sessions its items made count before their loops "
                + "see them");
        assertEquals(90, r.json().get("refused").asInt());
        assertEquals(10, gw.stats().get("sessions_offline_retained").asLong());
    }

    @Test
    void shouldKeepBatchOrderForTheSameClient() throws Exception {
        gw.start();
        SwbTestClient a = gw.hello("a");
        gw.hello("b");
        ApiClient.Response r = gw.api().post("/v1/messages", "{\"messages\":["
                + "{\"client\":\"a\",\"payload\":\"1\"},{\"client\":\"b\",\"payload\":\"x\"},"
                + "{\"client\":\"a\",\"payload\":\"2\"},{\"client\":\"a\",\"payload\":\"3\"}]}");
        assertEquals(200, r.status(), r.body());
        JsonNode results = r.json().get("results");
        assertEquals(1, results.get(0).get("seq").asLong());
        assertEquals(1, results.get(1).get("seq").asLong());
        assertEquals(2, results.get(2).get("seq").asLong());
        assertEquals(3, results.get(3).get("seq").asLong());
        for (int i = 1; i <= 3; i++) {
            SwbTestClient.Msg m = a.readMsg();
            assertEquals(i, m.seq());
            assertEquals(String.valueOf(i), m.text());
        }
    }

    @Test
    void shouldRetainBase64BatchItemWithTtlForAnOfflineClient() throws Exception {
        gw.start();
        byte[] payload = {0, '\n', (byte) 0xfe};
        String body = "{\"messages\":[{\"client\":\"off\",\"payload_b64\":\""
                + Base64.getEncoder().encodeToString(payload) + "\",\"ttl\":60}]}";
        ApiClient.Response r = gw.api().post("/v1/messages", body);
        assertEquals(200, r.status(), r.body());
        JsonNode item = r.json().get("results").get(0);
        assertEquals(200, item.get("status").asInt());
        assertFalse(item.get("delivered").asBoolean());

        SwbTestClient c = gw.connect();
        c.hello("off");
        assertArrayEquals(payload, c.readMsg().payload());
    }

    @Test
    void shouldAnswerEmptyBatchWithNoResults() throws Exception {
        gw.start();
        ApiClient.Response r = gw.api().post("/v1/messages", "{\"messages\":[]}");
        assertEquals(200, r.status(), r.body());
        assertEquals(0, r.json().get("results").size());
        assertEquals(0, r.json().get("accepted").asInt());
    }

    @Test
    void shouldRefuseMalformedBatchWith400Json() throws Exception {
        gw.start();
        for (String body : List.of("not json", "{}", "{\"messages\":{}}",
                "{\"messages\":[{\"client\":\"bad/id\",\"payload\":\"x\"}]}",
                "{\"messages\":[{\"client\":\"a\"}]}",
                "{\"messages\":[{\"client\":\"a\",\"payload_b64\":\"***\"}]}",
                "{\"messages\":[{\"client\":\"a\",\"payload\":\"x\",\"ttl\":-1}]}",
                // not strings: pushed as "" (an object, an array) or "42" and answered 200 before
                "{\"messages\":[{\"client\":\"a\",\"payload\":{\"price\":42},\"ttl\":60}]}",
                "{\"messages\":[{\"client\":\"a\",\"payload\":[1]}]}",
                "{\"messages\":[{\"client\":\"a\",\"payload\":42}]}",
                "{\"messages\":[{\"client\":\"a\",\"payload_b64\":{}}]}",
                "{\"messages\":[{\"client\":42,\"payload\":\"x\"}]}")) {
            ApiClient.Response r = gw.api().post("/v1/messages", body);
            assertEquals(400, r.status(), body + " -> " + r.body());
            assertEquals(400, r.json().get("status").asInt(), body);
            assertFalse(r.json().get("error").asText().isEmpty(), body);
        }
    }

    @Test
    void aBatchOfMoreThanTenThousandMessagesIsRefused413AsAWhole() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("c1");
        String item = "{\"client\":\"nobody\",\"payload\":\"x\"}"; // offline, ttl 0: 404 each
        ApiClient.Response full = gw.api().post("/v1/messages", "{\"messages\":["
                + String.join(",", java.util.Collections.nCopies(9_999, item))
                + ",{\"client\":\"c1\",\"payload\":\"last\"}]}");
        assertEquals(200, full.status(), full.body());
        assertEquals(10_000, full.json().get("results").size());
        assertEquals(1, full.json().get("accepted").asInt());
        assertEquals("MSG 1 4", c.readLine());
        assertEquals("last", c.readLine());
        ApiClient.Response over = gw.api().post("/v1/messages", "{\"messages\":["
                + String.join(",", java.util.Collections.nCopies(10_000, item))
                + ",{\"client\":\"c1\",\"payload\":\"over\"}]}");
        assertEquals(413, over.status(), over.body().substring(0, Math.min(300, over.body().length())));
        assertEquals(413, over.json().get("status").asInt());
        assertTrue(over.json().get("error").asText().contains("10000"), over.body());
        c.sync(); // nothing of the refused batch was pushed
    }

    // ---- topics and broadcast

    @Test
    void shouldPublishTopicMessageOnlyToSubscribers() throws Exception {
        gw.start();
        SwbTestClient reader = gw.hello("reader");
        SwbTestClient other = gw.hello("other");
        SwbTestClient second = gw.hello("second");
        reader.send("SUB news");
        assertEquals("OK SUB news", reader.readLine());
        second.send("SUB news");
        assertEquals("OK SUB news", second.readLine());
        other.send("SUB sport");
        assertEquals("OK SUB sport", other.readLine());

        ApiClient.Response r = gw.api().post("/v1/topics/news/messages", "headline");
        assertEquals(200, r.status(), r.body());
        assertEquals("news", r.json().get("topic").asText());
        assertEquals(2, r.json().get("delivered").asLong());
        assertEquals("headline", reader.readMsg().text());
        assertEquals("headline", second.readMsg().text());
        other.sync(); // not subscribed: nothing

        reader.send("UNSUB news");
        assertEquals("OK UNSUB news", reader.readLine());
        assertEquals(1, gw.api().post("/v1/topics/news/messages", "again").json().get("delivered").asLong());
        assertEquals("again", second.readMsg().text());
        reader.sync();
    }

    @Test
    void shouldForgetSubscriptionsOfAClosedConnection() throws Exception {
        gw.start();
        SwbTestClient reader = gw.hello("reader");
        reader.send("SUB news");
        assertEquals("OK SUB news", reader.readLine());
        reader.leave();
        GatewayFixture.await(() -> gw.server().registry().size() == 0, "the closed connection is processed");
        assertEquals(0, gw.api().post("/v1/topics/news/messages", "x").json().get("delivered").asLong());
    }

    @Test
    void shouldRefuseTopicPushWithInvalidTopicName() throws Exception {
        gw.start();
        ApiClient.Response r = gw.api().post("/v1/topics/bad!topic/messages", "x");
        assertEquals(400, r.status());
        assertEquals(400, r.json().get("status").asInt());
    }

    @Test
    void shouldBroadcastToEveryConnectedClient() throws Exception {
        gw.start();
        List<SwbTestClient> clients = List.of(gw.hello("b1"), gw.hello("b2"), gw.hello("b3"));
        gw.connect(); // connected but not welcomed: not a recipient

        ApiClient.Response r = gw.api().post("/v1/broadcast", "to all");
        assertEquals(200, r.status(), r.body());
        assertEquals(3, r.json().get("delivered").asLong());
        for (SwbTestClient c : clients) {
            SwbTestClient.Msg m = c.readMsg();
            assertEquals(1, m.seq());
            assertEquals("to all", m.text());
        }
        assertEquals(1, gw.stats().path("messages").path("broadcasts").asLong());
    }

    @Test
    void shouldRefuseBroadcastLargerThanMaxPayload() throws Exception {
        gw.config.maxPayloadBytes = 8;
        gw.start();
        ApiClient.Response r = gw.api().post("/v1/broadcast", "123456789");
        assertEquals(413, r.status());
        assertEquals(413, r.json().get("status").asInt());
        assertEquals(413, gw.api().post("/v1/topics/t/messages", "123456789").status());
    }

    // ---- clients

    @Test
    void shouldDisconnectClientWithTheReasonGivenByTheBackend() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("victim");
        ApiClient.Response r = gw.api().delete("/v1/clients/victim?reason=bye");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.json().get("disconnected").asBoolean());
        assertEquals("BYE 503 bye", c.readLine());
        c.expectEof();
        assertEquals(404, gw.api().get("/v1/clients/victim").status());
        assertEquals(0, gw.stats().get("sessions_online").asLong());
        gw.assertRefusals("disconnected_by_api", 1);
    }

    @Test
    void shouldDisconnectWithTheGivenCodeAndSanitizedReason() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("victim");
        assertEquals(200, gw.api().delete("/v1/clients/victim?code=403&reason=banned%20for%0Aspam").status());
        assertEquals("BYE 403 banned for?spam", c.readLine());
        c.expectEof();
    }

    @Test
    void shouldRefuseDisconnectWithACodeThatIsNotAByeCode() throws Exception {
        gw.start();
        gw.hello("victim");
        ApiClient.Response r = gw.api().delete("/v1/clients/victim?code=200");
        assertEquals(400, r.status());
        assertEquals(400, r.json().get("status").asInt());
        assertTrue(gw.clientInfo("victim").get("online").asBoolean());
    }

    @Test
    void shouldAnswer404WhenDisconnectingOrDescribingAnUnknownClient() throws Exception {
        gw.start();
        ApiClient.Response del = gw.api().delete("/v1/clients/ghost");
        assertEquals(404, del.status());
        assertEquals(404, del.json().get("status").asInt());
        ApiClient.Response get = gw.api().get("/v1/clients/ghost");
        assertEquals(404, get.status());
        assertEquals(404, get.json().get("status").asInt());
    }

    @Test
    void shouldRefuseInvalidClientIdInPathWith400Json() throws Exception {
        gw.start();
        for (String path : List.of("/v1/clients/bad!id/messages", "/v1/clients/bad%20id", "/v1/clients/"
                + "x".repeat(129) + "/messages")) {
            ApiClient.Response r = path.endsWith("/messages") ? gw.api().post(path, "p") : gw.api().get(path);
            assertEquals(400, r.status(), path);
            assertTrue(r.contentType().startsWith("application/json"), r.contentType());
            assertEquals(400, r.json().get("status").asInt());
        }
        gw.assertRefusals("api_bad_request", 3);
    }

    @Test
    void shouldAcceptPercentEncodedCharactersOfAValidClientId() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("user@example.com");
        assertEquals(200, gw.push("user%40example.com", "hi").status());
        assertEquals("hi", c.readMsg().text());
    }

    @Test
    void shouldAnswerUnknownEndpointWith404Json() throws Exception {
        gw.start();
        for (String path : List.of("/", "/v1", "/v2/clients/a", "/v1/clients/a/other", "/v1/drain/now")) {
            ApiClient.Response r = gw.api().get(path);
            assertEquals(404, r.status(), path);
            assertTrue(r.contentType().startsWith("application/json"), path + ": " + r.contentType());
            assertEquals(404, r.json().get("status").asInt(), path);
        }
    }

    @Test
    void shouldAnswerUnsupportedMethodOnAClientWith405Json() throws Exception {
        gw.start();
        ApiClient.Response r = gw.api().send("PUT", "/v1/clients/a", new byte[0], null);
        assertEquals(405, r.status());
        assertEquals(405, r.json().get("status").asInt());
    }

    // ---- stats and metrics

    @Test
    void shouldServePrometheusMetrics() throws Exception {
        gw.start();
        gw.hello("m1");
        gw.hello("m2");
        ApiClient.Response r = gw.api().get("/metrics");
        assertEquals(200, r.status());
        assertTrue(r.contentType().startsWith("text/plain"), r.contentType());
        List<String> lines = r.body().lines().toList();
        assertTrue(lines.contains("# TYPE switchboard_connections gauge"), r.body());
        assertTrue(lines.contains("switchboard_connections 2"), r.body());
        assertTrue(lines.contains("switchboard_sessions_online 2"), r.body());
        assertTrue(lines.contains("switchboard_handshakes_total 2"), r.body());
        assertTrue(lines.contains("switchboard_refusals_total{reason=\"max_connections\"} 0"), r.body());
        for (String line : lines) {
            assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ")
                    || line.matches("switchboard_[a-z_]+(\\{[a-z]+=\"[^\"]*\"})? -?\\d+(\\.\\d+)?"),
                    "not Prometheus text format: '" + line + "'");
        }
    }

    @Test
    void shouldServeStatsJson() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("s1");
        gw.push("s1", "m");
        c.readMsg();
        c.ack(1);
        c.sync();

        JsonNode s = gw.stats();
        assertEquals(1, s.get("sessions_online").asLong());
        assertEquals(1, s.get("connections").asLong());
        assertEquals(1, s.get("sessions_known").asLong());
        assertFalse(s.get("draining").asBoolean());
        assertTrue(s.path("memory").path("heap_used_bytes").asLong() > 0, s.toString());
        assertEquals(1, s.path("messages").path("pushes_accepted").asLong());
        assertEquals(1, s.path("messages").path("written").asLong());
        assertEquals(1, s.path("messages").path("acked").asLong());
        assertTrue(s.get("refusals").has("max_connections"), s.toString());
        assertEquals(0, s.path("uptime_s").asLong(), "uptime follows the injected clock");
        gw.clock.advanceSec(42);
        assertEquals(42, gw.stats().path("uptime_s").asLong());
    }

    @Test
    void shouldCountOnlineSessionsThroughTakeoverAndDisconnects() throws Exception {
        gw.start();
        SwbTestClient a = gw.hello("a");
        SwbTestClient a2 = gw.hello("a"); // takes over
        a.expectLine("BYE 409 ");
        a.expectEof();
        SwbTestClient b = gw.hello("b");
        assertEquals(2, gw.stats().get("sessions_online").asLong());
        b.leave();
        assertEquals(200, gw.api().delete("/v1/clients/a").status());
        a2.expectLine("BYE 503 ");
        a2.expectEof();
        GatewayFixture.await(() -> gw.server().metrics().sessionsOnline.get() == 0
                && gw.server().metrics().connectionsOpen.get() == 0, "every session and connection is gone");
        assertEquals(0, gw.stats().get("sessions_online").asLong());
    }

    // ---- regressions: bugs found by these tests, since fixed

    @Test
    void shouldDecodeClientIdInPathExactlyOnce() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("a@b");
        ApiClient.Response r = gw.push("a%2540b", "meant for someone else");
        assertEquals(400, r.status(), "'a%2540b' decodes once to 'a%40b', which is not a valid client id: " + r.body());
        c.sync(); // and client 'a@b' received nothing
    }

    @Test
    void shouldAnswerPipelinedRequestsInRequestOrder() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("p");
        try (Socket s = new Socket("127.0.0.1", gw.server().apiPort())) {
            s.setSoTimeout(SwbTestClient.READ_TIMEOUT_MS);
            String twoRequests = "POST /v1/clients/p/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
                    + "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
            s.getOutputStream().write(twoRequests.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            RawResponse first = readHttpResponse(in);
            RawResponse second = readHttpResponse(in);
            assertEquals("{\"seq\":1,\"delivered\":true}", first.body(),
                    "the push was sent first, so its answer comes first");
            assertEquals("{\"status\":\"ok\"}", second.body());
        }
        assertEquals("hi", c.readMsg().text());
    }

    @Test
    void shouldCountATopicPushRefusedForAFullQueueOnceAsTopicQueueFull() throws Exception {
        gw.config.windowMessages = 1;
        gw.config.maxQueuedMessagesPerClient = 1;
        gw.start();
        SwbTestClient c = gw.hello("busy");
        c.send("SUB news");
        assertEquals("OK SUB news", c.readLine());
        assertEquals(200, gw.push("busy", "fills the queue").status());

        ApiClient.Response r = gw.api().post("/v1/topics/news/messages", "no room");
        assertEquals(0, r.json().get("delivered").asLong());
        gw.assertRefusals("topic_queue_full", 1);
        gw.assertRefusals("queue_full", 0);
    }

    @Test
    void shouldRefuseRequestThatCouldNotBeDecodedInsteadOfPushingAnEmptyPayload() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("a");
        try (Socket s = new Socket("127.0.0.1", gw.server().apiPort())) {
            s.setSoTimeout(SwbTestClient.READ_TIMEOUT_MS);
            String request = "POST /v1/clients/a/messages HTTP/1.1\r\nHost: t\r\nX-Trace: " + "t".repeat(10_000)
                    + "\r\nContent-Length: 5\r\n\r\nhello";
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            RawResponse r = readHttpResponse(s.getInputStream());
            assertTrue(r.status() >= 400 && r.status() < 500, "a request that failed to decode must be refused, got "
                    + r.status() + " " + r.body());
        }
        c.sync(); // and nothing was pushed
    }

    /** One HTTP response read off a raw socket. */
    private record RawResponse(int status, String body) {
    }

    /** Reads one HTTP/1.1 response with a Content-Length. */
    private static RawResponse readHttpResponse(InputStream in) throws java.io.IOException {
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("connection closed inside a response head: " + head);
            }
            head.write(b);
        }
        int length = -1;
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        assertTrue(length >= 0, "response without content-length: " + head);
        int status = Integer.parseInt(head.toString(StandardCharsets.ISO_8859_1).split(" ", 3)[1]);
        return new RawResponse(status, new String(in.readNBytes(length), StandardCharsets.UTF_8));
    }
}
