package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.AdminService;
import io.switchboard.service.ClientInfo;
import io.switchboard.service.CoreStats;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import io.switchboard.service.PushService;
import io.switchboard.service.Reach;
import io.switchboard.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The API's routing and answers on an {@link EmbeddedChannel}, against fake services: no sockets, no loops. */
class ApiHandlerTest {
    private static final int MAX_PAYLOAD_BYTES = 1024;
    private static final int MAX_TTL_SEC = 3600;

    private final GatewayMetrics metrics = new GatewayMetrics();
    private final FakePush push = new FakePush();
    private final FakeAdmin admin = new FakeAdmin();
    private EmbeddedChannel channel = channel(null);

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    // ---- routing and answers

    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"1,true", "0,false", "9223372036854775807,false",
            "1795400000000001,true"})
    void shouldWriteThePushAnswerByHandAsJacksonWritesIt(long seq, boolean delivered) throws Exception {
        var jackson = new com.fasterxml.jackson.databind.ObjectMapper();
        assertEquals(jackson.writeValueAsString(jackson.createObjectNode().put("seq", seq).put("delivered", delivered)),
                new String(ApiHandler.pushAnswer(seq, delivered), StandardCharsets.US_ASCII));
    }

    @Test
    void shouldHandOnePushToThePushServiceAndAnswerItsSeq() {
        send("POST", "/v1/clients/app%3A7/messages?ttl=30", "hello");
        assertEquals(List.of("push app:7 hello ttl=30"), push.calls);
        push.complete(PushResult.accepted(42, true));

        Answer a = onlyAnswer();
        assertEquals(200, a.status);
        assertEquals(42, a.json.get("seq").asLong());
        assertTrue(a.json.get("delivered").asBoolean());
    }

    @Test
    void shouldAnswerARefusedPushWithItsOwnStatusAsJson() {
        send("POST", "/v1/clients/a/messages", "x");
        push.complete(PushResult.QUEUE_FULL);

        Answer a = onlyAnswer();
        assertEquals(429, a.status);
        assertEquals(429, a.json.get("status").asInt());
        assertEquals(PushResult.QUEUE_FULL.error(), a.json.get("error").asText());
    }

    @Test
    void shouldAnswerABatchWithOneResultPerItemInRequestOrder() {
        send("POST", "/v1/messages", "{\"messages\":[{\"client\":\"a\",\"payload\":\"1\",\"ttl\":5},"
                + "{\"client\":\"b\",\"payload_b64\":\"AAE=\"}]}");
        assertEquals(List.of("batch a 1 ttl=5, b \u0000\u0001 ttl=0"), push.calls);
        push.complete(new PushResult[] {PushResult.accepted(3, false), PushResult.OFFLINE});

        JsonNode out = onlyAnswer().json;
        assertEquals("a", out.get("results").get(0).get("client").asText());
        assertEquals(3, out.get("results").get(0).get("seq").asLong());
        assertEquals("b", out.get("results").get(1).get("client").asText());
        assertEquals(404, out.get("results").get(1).get("status").asInt());
        assertEquals(1, out.get("accepted").asInt());
        assertEquals(1, out.get("refused").asInt());
    }

    @Test
    void shouldAnswerBroadcastAndTopicWithTheNumberReached() {
        send("POST", "/v1/broadcast", "all");
        push.complete(Reach.of(5));
        send("POST", "/v1/topics/news/messages", "n");
        push.complete(Reach.of(2));

        assertEquals(List.of("broadcast all", "publish news n"), push.calls);
        List<Answer> answers = answers();
        assertEquals(5, answers.get(0).json.get("delivered").asLong());
        assertEquals("news", answers.get(1).json.get("topic").asText());
        assertEquals(2, answers.get(1).json.get("delivered").asLong());
        assertFalse(answers.get(0).json.has("unconfirmed_nodes"), "every node confirmed: no list");
    }

    @Test
    void shouldNameTheNodesThatDidNotConfirmABroadcast() {
        send("POST", "/v1/broadcast", "all");
        push.complete(new Reach(7, List.of("b", "c")));

        Answer a = onlyAnswer();
        assertEquals(200, a.status);
        assertEquals(7, a.json.get("delivered").asLong());
        assertEquals("[\"b\",\"c\"]", a.json.get("unconfirmed_nodes").toString());
    }

    @Test
    void shouldAnswerClientInfoOrNotFound() {
        send("GET", "/v1/clients/a", null);
        push.complete(new ClientInfo("a", true, 1000, "127.0.0.1:5000", "swb", 9, 8, 1, 10, 1));
        send("GET", "/v1/clients/ghost", null);
        push.complete(null);

        List<Answer> answers = answers();
        assertEquals(200, answers.get(0).status);
        assertEquals("127.0.0.1:5000", answers.get(0).json.get("remote").asText());
        assertEquals(8, answers.get(0).json.get("acked").asLong());
        assertEquals(404, answers.get(1).status);
    }

    @Test
    void shouldHandADisconnectWithItsCodeAndPrintableReasonToThePushService() {
        send("DELETE", "/v1/clients/a?code=409&reason=moved%0Aaway", null);
        assertEquals(List.of("disconnect a 409 moved?away"), push.calls);
        push.complete(true);

        assertEquals(200, onlyAnswer().status);
    }

    @Test
    void shouldAnswerHealthAndDrainThroughTheAdminService() {
        send("GET", "/healthz", null);
        send("POST", "/v1/drain", "");
        send("GET", "/healthz", null);

        List<Answer> answers = answers();
        assertEquals(200, answers.get(0).status);
        assertEquals(202, answers.get(1).status);
        assertEquals(7, answers.get(1).json.get("drain_period_s").asInt());
        assertEquals(1, admin.drains);
        assertEquals(503, answers.get(2).status);
        assertEquals("draining", answers.get(2).json.get("status").asText());
    }

    @Test
    void shouldRefuseBroadcastWhileDrainingWithoutCallingThePushService() {
        admin.draining = true;
        send("POST", "/v1/broadcast", "all");

        assertEquals(503, onlyAnswer().status);
        assertEquals(List.of(), push.calls);
    }

    @Test
    void shouldRefuseAPayloadOverTheLimitWithoutCallingThePushService() {
        send("POST", "/v1/topics/t/messages", "x".repeat(MAX_PAYLOAD_BYTES + 1));

        assertEquals(413, onlyAnswer().status);
        assertEquals(List.of(), push.calls);
    }

    @Test
    void shouldReportTheCoreStatsInStatsAndMetrics() {
        send("GET", "/v1/stats", null);
        send("GET", "/metrics", null);

        List<Answer> answers = answers();
        JsonNode stats = answers.get(0).json;
        assertEquals(12, stats.get("uptime_s").asLong());
        assertEquals(100, stats.get("max_connections").asInt());
        assertEquals(3, stats.get("sessions_known").asInt());
        assertEquals(1, stats.get("sessions_offline_retained").asInt());
        String text = answers.get(1).body;
        assertTrue(text.contains("switchboard_loop_connections{loop=\"1\"} 4\n"), text);
        assertTrue(text.contains("switchboard_sessions_known 3\n"), text);
    }

    @Test
    void shouldAnswerUnknownEndpointsAndBadRequestsWithJsonErrors() {
        send("GET", "/v2/nothing", null);
        send("POST", "/v1/clients/a/messages?ttl=-1", "x");
        send("PUT", "/v1/clients/a", null);

        List<Answer> answers = answers();
        assertEquals(404, answers.get(0).status);
        assertEquals(404, answers.get(0).json.get("status").asInt());
        assertEquals(400, answers.get(1).status);
        assertEquals(405, answers.get(2).status);
        assertEquals(List.of(), push.calls);
    }

    @Test
    void shouldRequireTheBearerTokenExceptForHealth() {
        channel.finishAndReleaseAll();
        channel = channel("s3cret");
        send("GET", "/v1/stats", null);
        send("GET", "/healthz", null);
        FullHttpRequest authorized = request("GET", "/v1/stats", null);
        authorized.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer s3cret");
        channel.writeInbound(authorized);

        List<Answer> answers = answers();
        assertEquals(401, answers.get(0).status);
        assertEquals(200, answers.get(1).status);
        assertEquals(200, answers.get(2).status);
    }

    // ---- failures keep the connection's order going

    static Stream<Arguments> requestsThatWaitForTheCore() {
        return Stream.of(
                Arguments.of("POST", "/v1/clients/a/messages", "x"),
                Arguments.of("POST", "/v1/messages", "{\"messages\":[{\"client\":\"a\",\"payload\":\"x\"}]}"),
                Arguments.of("POST", "/v1/broadcast", "x"),
                Arguments.of("POST", "/v1/topics/t/messages", "x"),
                Arguments.of("GET", "/v1/clients/a", null),
                Arguments.of("DELETE", "/v1/clients/a", null));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("requestsThatWaitForTheCore")
    void shouldAnswer500WhenTheFutureFailsAndStillAnswerTheNextPipelinedRequest(String method, String uri,
                                                                                 String body) {
        send(method, uri, body);
        send("GET", "/healthz", null);
        assertEquals(List.of(), answers(), "the health answer waits for the earlier request's place");

        push.fail(new IllegalStateException("a loop task threw"));

        List<Answer> answers = answers();
        assertEquals(2, answers.size());
        assertEquals(500, answers.get(0).status);
        assertEquals(500, answers.get(0).json.get("status").asInt());
        assertEquals("internal error: IllegalStateException", answers.get(0).json.get("error").asText());
        assertEquals(200, answers.get(1).status);
        assertEquals("ok", answers.get(1).json.get("status").asText());
    }

    @Test
    void shouldAnswer500WhenADependentFutureFailsWithTheCauseNamed() {
        push.wrapFailures = true;
        send("GET", "/v1/clients/a", null);
        push.fail(new UnsupportedOperationException("inner"));

        Answer a = onlyAnswer();
        assertEquals(500, a.status);
        assertEquals("internal error: UnsupportedOperationException", a.json.get("error").asText());
    }

    @Test
    void shouldAnswer500WhenTheServiceThrowsAndStillAnswerTheNextPipelinedRequest() {
        push.throwNow = new IllegalStateException("no loop takes tasks");
        send("POST", "/v1/clients/a/messages", "x");
        send("GET", "/healthz", null);

        List<Answer> answers = answers();
        assertEquals(2, answers.size());
        assertEquals(500, answers.get(0).status);
        assertEquals("internal error: IllegalStateException", answers.get(0).json.get("error").asText());
        assertEquals(200, answers.get(1).status);
        assertEquals(1, metrics.loopErrors.sum(), "counted once, by the API that caught it");
    }

    @Test
    void shouldKeepOrderWhenALaterRequestCompletesFirst() {
        send("GET", "/v1/clients/a", null);
        CompletableFuture<Object> first = push.pending;
        send("POST", "/v1/broadcast", "x");
        push.complete(Reach.of(1));
        assertEquals(List.of(), answers());

        first.complete(null);

        List<Answer> answers = answers();
        assertEquals(404, answers.get(0).status);
        assertEquals(200, answers.get(1).status);
    }

    // ---- backpressure and half-close

    @Test
    void shouldStopReadingWhileTooManyAnswersWaitAndReadAgainOnceTheyAreWritten() {
        List<CompletableFuture<Object>> waiting = new ArrayList<>();
        for (int i = 0; i < Exchange.MAX_PENDING_ANSWERS; i++) {
            assertTrue(channel.config().isAutoRead(), "before request " + i);
            send("GET", "/v1/clients/a", null);
            waiting.add(push.pending);
        }
        assertFalse(channel.config().isAutoRead(), "no more requests are read while their answers wait");

        waiting.get(0).complete(null);
        assertTrue(channel.config().isAutoRead(), "one answer written: read again");
        waiting.forEach(f -> f.complete(null));
        assertEquals(Exchange.MAX_PENDING_ANSWERS, answers().size());
    }

    @Test
    void shouldStopReadingWhileTheRequestsWaitingForAnswersHoldManyBytesHoweverFewTheyAre() {
        // Batches of thousands behind a slow stored push: each answer (a result per message) about as large as its
        // request; 64 of them waiting held hundreds of megabytes of answers on one connection.
        String batch = "{\"messages\":[" + "{\"client\":\"a\",\"payload\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"},"
                .repeat(9_999) + "{\"client\":\"a\",\"payload\":\"x\"}]}"; // ~0.6 MB, 10,000 messages
        List<CompletableFuture<Object>> waiting = new ArrayList<>();
        while (channel.config().isAutoRead() && waiting.size() < Exchange.MAX_PENDING_ANSWERS) {
            send("POST", "/v1/messages", batch);
            waiting.add(push.pending);
        }
        assertFalse(channel.config().isAutoRead(), "no more requests are read while their answers wait");
        assertTrue(waiting.size() * (long) batch.length() <= Exchange.MAX_PENDING_REQUEST_BYTES + batch.length(),
                waiting.size() + " batches of " + batch.length() + " bytes taken");
        PushResult[] results = new PushResult[10_000];
        java.util.Arrays.fill(results, PushResult.accepted(1, false));
        waiting.get(0).complete(results);
        channel.runPendingTasks();
        assertTrue(channel.config().isAutoRead(), "its answer written: read again");
        waiting.forEach(f -> f.complete(results));
        assertEquals(waiting.size(), answers().size());
    }

    @Test
    void shouldAnswerWhatWasReadBeforeAHalfCloseAndThenClose() {
        send("POST", "/v1/clients/a/messages?ttl=600", "x");
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertTrue(channel.isOpen(), "the push's answer is still to come");

        push.complete(PushResult.accepted(7, false));
        channel.runPendingTasks();
        assertFalse(channel.isOpen(), "closed once answered");
        FullHttpResponse res = channel.readOutbound();
        try {
            assertEquals(200, res.status().code());
            assertEquals("close", res.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            res.release();
        }
    }

    // ---- rig

    private EmbeddedChannel channel(String token) {
        ApiSettings settings = new ApiSettings("127.0.0.1", 0, Transport.NIO, token, MAX_PAYLOAD_BYTES, MAX_TTL_SEC,
                10, 10, 30);
        StatsCollector stats = new StatsCollector(metrics, admin, new ApiConnections(settings, metrics, System::nanoTime));
        return new EmbeddedChannel(new ApiHandler(settings, push, admin, metrics, stats));
    }

    private static FullHttpRequest request(String method, String uri, String body) {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), uri,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        req.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, req.content().readableBytes());
        return req;
    }

    private void send(String method, String uri, String body) {
        channel.writeInbound(request(method, uri, body));
    }

    private record Answer(int status, String body, JsonNode json) {
    }

    /** Every answer written so far, in order. */
    private List<Answer> answers() {
        channel.runPendingTasks();
        List<Answer> out = new ArrayList<>();
        for (FullHttpResponse res; (res = channel.readOutbound()) != null; ) {
            try {
                String body = res.content().toString(StandardCharsets.UTF_8);
                boolean json = res.headers().get(HttpHeaderNames.CONTENT_TYPE).startsWith("application/json");
                out.add(new Answer(res.status().code(), body, json ? parse(body) : null));
            } finally {
                res.release();
            }
        }
        return out;
    }

    private Answer onlyAnswer() {
        List<Answer> answers = answers();
        assertEquals(1, answers.size(), answers.toString());
        return answers.get(0);
    }

    private static JsonNode parse(String body) {
        try {
            return ApiHandler.JSON.readTree(body);
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    /** Records each call and hands back one pending future that the test completes or fails. */
    static final class FakePush implements PushService {
        final List<String> calls = new ArrayList<>();
        CompletableFuture<Object> pending;
        RuntimeException throwNow;
        /** Hand out a dependent stage, whose failure arrives wrapped in a CompletionException. */
        boolean wrapFailures;

        @SuppressWarnings("unchecked")
        private <T> CompletableFuture<T> call(String what) {
            if (throwNow != null) {
                throw throwNow;
            }
            calls.add(what);
            pending = new CompletableFuture<>();
            return (CompletableFuture<T>) (wrapFailures ? pending.thenApply(x -> x) : pending);
        }

        void complete(Object result) {
            pending.complete(result);
        }

        void fail(Throwable e) {
            pending.completeExceptionally(e);
        }

        @Override
        public CompletableFuture<PushResult> push(String clientId, byte[] payload, int ttlSec) {
            return call("push " + clientId + " " + text(payload) + " ttl=" + ttlSec);
        }

        @Override
        public CompletableFuture<PushResult[]> pushBatch(List<PushRequest> requests) {
            List<String> items = new ArrayList<>();
            for (PushRequest r : requests) {
                items.add(r.clientId() + " " + text(r.payload()) + " ttl=" + r.ttlSec());
            }
            return call("batch " + String.join(", ", items));
        }

        @Override
        public CompletableFuture<Reach> broadcast(byte[] payload) {
            return call("broadcast " + text(payload));
        }

        @Override
        public CompletableFuture<Reach> publish(String topic, byte[] payload) {
            return call("publish " + topic + " " + text(payload));
        }

        @Override
        public boolean retain(String topic, byte[] payload) {
            call("retain " + topic + " " + text(payload));
            return true;
        }

        @Override
        public CompletableFuture<ClientInfo> info(String clientId) {
            return call("info " + clientId);
        }

        @Override
        public CompletableFuture<Boolean> disconnect(String clientId, int code, String reason) {
            return call("disconnect " + clientId + " " + code + " " + reason);
        }

        private static String text(byte[] payload) {
            return new String(payload, StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void healthSaysWhenAPartOfTheServerFailedForGood() {
        admin.failing = "the store's writer stopped";
        send("GET", "/healthz", null);
        Answer a = onlyAnswer();
        assertEquals(503, a.status);
        assertEquals("failing", a.json.get("status").asText());
        assertEquals("the store's writer stopped", a.json.get("error").asText());
    }

    static final class FakeAdmin implements AdminService {
        boolean draining;
        int drains;
        String failing;

        @Override
        public String failing() {
            return failing;
        }

        @Override
        public CompletableFuture<Void> drain() {
            drains++;
            draining = true;
            return new CompletableFuture<>();
        }

        @Override
        public boolean draining() {
            return draining;
        }

        @Override
        public int drainPeriodSec() {
            return 7;
        }

        @Override
        public CoreStats stats() {
            return new CoreStats(12_500, 100, 3, 1, List.of(2, 4));
        }
    }
}
