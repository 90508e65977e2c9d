package io.switchboard.upstream;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.server.FreePorts;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class WebhookSinkTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final long CLOCK_MS = 1_700_000_123_456L;
    /** Linger long enough never to fire during a test; retries fast. */
    private static final WebhookSink.Options BASE = WebhookSink.Options.DEFAULTS
            .withLingerMs(10_000)
            .withRetries(5, 1, 10);

    /** Records the one outcome of an offer, and how many times it was reported. */
    static final class Rec implements UpstreamSink.Callback {
        final AtomicInteger calls = new AtomicInteger();
        final CountDownLatch done = new CountDownLatch(1);
        private final CountDownLatch anyAccepted;
        private final AtomicInteger duplicateCalls;
        volatile boolean accepted;
        volatile int code;
        volatile String reason;

        Rec() {
            this(new CountDownLatch(0), new AtomicInteger());
        }

        /**
         * @param anyAccepted    counted down when this message is accepted (shared between messages)
         * @param duplicateCalls incremented by every call after the first (shared between messages)
         */
        Rec(CountDownLatch anyAccepted, AtomicInteger duplicateCalls) {
            this.anyAccepted = anyAccepted;
            this.duplicateCalls = duplicateCalls;
        }

        @Override
        public void accepted() {
            accepted = true;
            called();
            anyAccepted.countDown();
        }

        @Override
        public void refused(int code, String reason) {
            this.code = code;
            this.reason = reason;
            called();
        }

        private void called() {
            if (calls.incrementAndGet() > 1) {
                duplicateCalls.incrementAndGet();
            }
            done.countDown();
        }

        Rec await() throws InterruptedException {
            assertTrue(done.await(5, SECONDS), "callback within 5 s");
            return this;
        }

        void assertAccepted() throws InterruptedException {
            await();
            assertTrue(accepted, () -> "expected accepted, got refused " + code + " " + reason);
            assertEquals(1, calls.get(), "callback calls");
        }

        void assertRefused(int expectedCode, String expectedReason) throws InterruptedException {
            await();
            assertFalse(accepted, "expected refused, got accepted");
            assertEquals(expectedCode, code);
            assertEquals(expectedReason, reason);
            assertEquals(1, calls.get(), "callback calls");
        }
    }

    private final List<WebhookSink> sinks = new ArrayList<>();
    private FakeWebhook hook;

    @BeforeEach
    void startWebhook() throws Exception {
        hook = new FakeWebhook();
    }

    @AfterEach
    void stopEverything() {
        sinks.forEach(WebhookSink::close);
        hook.close();
    }

    private WebhookSink sink(URI uri, WebhookSink.Options options) {
        WebhookSink sink = new WebhookSink(uri, options, null, () -> CLOCK_MS, new SplittableRandom(42));
        sinks.add(sink);
        return sink;
    }

    private static Rec offer(WebhookSink sink, String client, String id, String payload) {
        Rec rec = new Rec();
        sink.offer(client, id, payload.getBytes(StandardCharsets.UTF_8), rec);
        return rec;
    }

    private static List<JsonNode> messages(FakeWebhook.Request request) throws Exception {
        JsonNode root = MAPPER.readTree(request.body());
        List<JsonNode> out = new ArrayList<>();
        root.get("messages").forEach(out::add);
        return out;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        Iterator<String> it = node.fieldNames();
        it.forEachRemaining(names::add);
        return names;
    }

    @Test
    void shouldPostSeveralOffersAsOneBatch() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(3));
        Rec a = offer(sink, "alice", "1", "one");
        Rec b = offer(sink, "bob", "2", "two");
        Rec c = offer(sink, "alice", "3", "three");

        a.assertAccepted();
        b.assertAccepted();
        c.assertAccepted();
        List<JsonNode> msgs = messages(hook.nextRequest());
        assertEquals(List.of("1", "2", "3"), msgs.stream().map(m -> m.get("id").asText()).toList());
        sink.close();
        assertTrue(hook.requests.isEmpty(), "exactly one POST");
        assertEquals(1, sink.batchesPosted());
        assertEquals(3, sink.offered());
        assertEquals(3, sink.accepted());
        assertEquals(0, sink.bufferedMessages());
        assertEquals(0, sink.bufferedBytes());
    }

    @Test
    void shouldPostPartialBatchOnceLingerExpires() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(100).withLingerMs(20));
        Rec a = offer(sink, "alice", "1", "x");
        Rec b = offer(sink, "bob", "2", "y");

        a.assertAccepted();
        b.assertAccepted();
        int total = 0;
        FakeWebhook.Request r;
        while ((r = hook.requests.poll()) != null) {
            total += messages(r).size();
        }
        assertEquals(2, total);
    }

    @Test
    void shouldPostTheDocumentedJsonBody() throws Exception {
        byte[] binary = {0, 1, 2, (byte) 0xff, '\n', (byte) 0x80, 'z'};
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(2).withBearerToken("tok-123"));
        Rec a = new Rec();
        sink.offer("alice", "s-1", binary, a);
        Rec b = new Rec();
        sink.offer("bob.2@x:y-z_", "s-2", new byte[0], b);
        a.assertAccepted();
        b.assertAccepted();

        FakeWebhook.Request req = hook.nextRequest();
        assertEquals("POST", req.method());
        assertEquals("/switchboard", req.path());
        assertEquals("application/json", req.headers().getFirst("Content-Type"));
        assertEquals("Bearer tok-123", req.headers().getFirst("Authorization"));
        assertEquals("1", req.headers().getFirst(WebhookSink.ATTEMPT_HEADER));
        assertNotNull(req.headers().getFirst(WebhookSink.BATCH_HEADER));

        JsonNode root = MAPPER.readTree(req.body());
        assertEquals(List.of("messages"), fieldNames(root));
        List<JsonNode> msgs = messages(req);
        assertEquals(2, msgs.size());
        JsonNode m0 = msgs.get(0);
        assertEquals(List.of("client", "id", "payload_b64", "received_ms"), fieldNames(m0));
        assertEquals("alice", m0.get("client").asText());
        assertEquals("s-1", m0.get("id").asText());
        assertArrayEquals(binary, Base64.getDecoder().decode(m0.get("payload_b64").asText()));
        assertTrue(m0.get("received_ms").isIntegralNumber());
        assertEquals(CLOCK_MS, m0.get("received_ms").asLong());
        JsonNode m1 = msgs.get(1);
        assertEquals("bob.2@x:y-z_", m1.get("client").asText());
        assertEquals("s-2", m1.get("id").asText());
        assertEquals("", m1.get("payload_b64").asText());
    }

    @Test
    void shouldNotReportAcceptedBeforeTheWebhookAnswers() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(1));
        hook.holdAll();
        Rec a = offer(sink, "alice", "1", "x");

        hook.nextRequest();
        assertEquals(0, a.calls.get(), "no outcome while the webhook has not answered");
        assertEquals(1, sink.bufferedMessages());
        hook.release();
        a.assertAccepted();
        assertEquals(0, sink.bufferedMessages());
    }

    @Test
    void shouldRetryAfter500AndThenAccept() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(1));
        hook.script.add(500);
        Rec a = offer(sink, "alice", "1", "x");

        a.assertAccepted();
        FakeWebhook.Request first = hook.nextRequest();
        FakeWebhook.Request second = hook.nextRequest();
        assertArrayEquals(first.body(), second.body());
        assertEquals(first.headers().getFirst(WebhookSink.BATCH_HEADER), second.headers().getFirst(WebhookSink.BATCH_HEADER));
        assertEquals("2", second.headers().getFirst(WebhookSink.ATTEMPT_HEADER));
        assertEquals(1, sink.retries());
        assertEquals(1, sink.batchesPosted());
        assertEquals(1, sink.accepted());
    }

    @Test
    void shouldRetryAfter429AndThenAccept() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(1));
        hook.script.add(429);
        hook.script.add(502);
        Rec a = offer(sink, "alice", "1", "x");

        a.assertAccepted();
        assertEquals(2, sink.retries());
    }

    @Test
    void a408RequestTimeoutIsRetriedNotARefusalForGood() throws Exception {
        // The webhook (or a proxy before it) timed the request out: nothing says the message was wrong. Taken as
        // a lasting refusal, it was NACK 502, and an MQTT 3.1.1 PUBLISH then acknowledged and gone.
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(1));
        hook.script.add(408);
        Rec a = offer(sink, "alice", "1", "x");

        a.assertAccepted();
        assertEquals(1, sink.retries());
    }

    @Test
    void aBatchIsCutAtAboutAMegabyteOfBodyHoweverFewMessagesItHolds() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(100).withLingerMs(50));
        String large = "x".repeat(600_000); // 800,000 bytes in base64: two would pass 1 MiB
        List<Rec> recs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            recs.add(offer(sink, "cam" + i, "1", large));
        }
        for (Rec r : recs) {
            r.assertAccepted();
        }
        sink.close();
        assertEquals(3, hook.requests.size(), "one POST per message");
        for (FakeWebhook.Request r : hook.requests) {
            assertTrue(r.body().length <= WebhookBatcher.MAX_BATCH_BODY_BYTES, r.body().length + " bytes");
        }
    }

    @Test
    void aBatchRefused413IsPostedInHalvesAndOnlyASingleMessageIsRefusedForGood() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(4).withMaxInFlightBatches(1));
        hook.script.add(413); // the batch of four
        hook.script.add(200); // its first half
        hook.script.add(413); // its second half: halved again
        hook.script.add(200); // the third message alone
        hook.script.add(413); // the fourth alone: too large by itself
        List<Rec> recs = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            recs.add(offer(sink, "dev", String.valueOf(i), "m" + i));
        }
        recs.get(0).assertAccepted();
        recs.get(1).assertAccepted();
        recs.get(2).assertAccepted();
        recs.get(3).assertRefused(502, "backend refused: HTTP 413");
        assertEquals(List.of("1", "2", "3", "4"), messages(hook.nextRequest()).stream().map(m -> m.get("id").asText())
                .toList());
        assertEquals(List.of("1", "2"), messages(hook.nextRequest()).stream().map(m -> m.get("id").asText()).toList());
        for (int i = 0; i < 3; i++) {
            hook.nextRequest();
        }
        // Remembered: the next batches are cut below the body refused, not refused and halved again.
        List<Rec> later = new ArrayList<>();
        for (int i = 5; i <= 8; i++) {
            later.add(offer(sink, "dev", String.valueOf(i), "m" + i));
        }
        for (Rec r : later) {
            r.assertAccepted();
        }
        sink.close();
        assertTrue(hook.requests.size() >= 2, "in smaller batches: " + hook.requests.size() + " POSTs");
        for (FakeWebhook.Request r : hook.requests) {
            assertTrue(messages(r).size() < 4, messages(r).size() + " messages in one POST");
        }
    }

    @Test
    void aRetryAfterOfA429IsWaitedBeforeTheNextAttempt() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(1)); // backoff 1 to 10 ms
        hook.retryAfter = "1";
        hook.script.add(429);
        Rec a = offer(sink, "alice", "1", "x");
        hook.nextRequest();
        long first = System.nanoTime();
        hook.nextRequest();
        long waitedMs = (System.nanoTime() - first) / 1_000_000;
        a.assertAccepted();
        assertTrue(waitedMs >= 900, "the webhook asked for a second, waited " + waitedMs + " ms");
    }

    @Test
    void shouldRefuseWith502WhenTheWebhookAnswers400() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(2));
        hook.script.add(400);
        Rec a = offer(sink, "alice", "1", "x");
        Rec b = offer(sink, "bob", "2", "y");

        a.assertRefused(502, "backend refused: HTTP 400");
        b.assertRefused(502, "backend refused: HTTP 400");
        sink.close();
        assertEquals(1, hook.requests.size(), "a 4xx is not retried");
        assertEquals(0, sink.retries());
        assertEquals(2L, sink.refusedByReason().get(WebhookSink.BACKEND_REFUSED));
    }

    @Test
    void shouldRefuseWith503WhenRetriesAreExhausted() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(1).withRetries(3, 1, 5));
        hook.answerAlways(503);
        Rec a = offer(sink, "alice", "1", "x");

        a.assertRefused(503, "backend unavailable");
        sink.close();
        assertEquals(3, hook.requests.size(), "3 attempts");
        assertEquals(2, sink.retries());
        assertEquals(1L, sink.refusedByReason().get(WebhookSink.BACKEND_UNAVAILABLE));
        assertEquals(0, sink.accepted());
    }

    @Test
    void shouldRetryConnectionErrorsAndThenRefuseWith503() throws Exception {
        try (java.net.Socket nothingListens = FreePorts.refusing()) {
            WebhookSink sink = sink(URI.create("http://127.0.0.1:" + nothingListens.getLocalPort() + "/x"),
                    BASE.withMaxBatchMessages(1).withRetries(2, 1, 5));
            Rec a = offer(sink, "alice", "1", "x");

            a.assertRefused(503, "backend unavailable");
            assertEquals(1, sink.retries());
        }
    }

    @Test
    void shouldNotWaitForeverForABodyThatNeverEnds() throws Exception {
        try (ServerSocket stalled = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread server = Thread.ofVirtual().start(() -> {
                while (!stalled.isClosed()) {
                    try {
                        java.net.Socket s = stalled.accept();
                        held.add(s);
                        s.getInputStream().read(new byte[65536]); // the request (small enough for one read)
                        s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
                                .getBytes(StandardCharsets.US_ASCII)); // and never the rest
                        s.getOutputStream().flush();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            WebhookSink sink = sink(URI.create("http://127.0.0.1:" + stalled.getLocalPort() + "/x"),
                    BASE.withMaxBatchMessages(1).withRequestTimeoutMs(300).withRetries(2, 1, 5));
            Rec a = offer(sink, "alice", "1", "x");
            a.assertRefused(503, "backend unavailable"); // each attempt bounded, then refused as unavailable
            for (java.net.Socket s : held) {
                s.close();
            }
            server.interrupt();
        }
    }

    @Test
    void shouldRetryAfterARequestTimeout() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(1).withRequestTimeoutMs(300));
        hook.holdNext(1);
        Rec a = offer(sink, "alice", "1", "x");

        a.assertAccepted();
        assertEquals(1, sink.retries());
        assertEquals(2, hook.requests.size());
    }

    @Test
    void shouldRefuseAtOnceWhenTheBufferHoldsTheMaximumMessages() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(100).withBuffer(2, 1 << 20));
        Rec a = offer(sink, "alice", "1", "x");
        Rec b = offer(sink, "bob", "2", "y");
        Rec c = offer(sink, "carol", "3", "z");

        // Refused synchronously, inside offer().
        assertEquals(1, c.calls.get());
        c.assertRefused(503, "upstream buffer full");
        assertEquals(2, sink.bufferedMessages());
        sink.close();
        a.assertAccepted();
        b.assertAccepted();
        assertEquals(1L, sink.refusedByReason().get(WebhookSink.BUFFER_FULL));
    }

    @Test
    void shouldRefuseAtOnceWhenTheBufferHoldsTheMaximumBytes() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(100).withBuffer(100, 10));
        Rec a = offer(sink, "alice", "1", "123456");
        Rec b = offer(sink, "bob", "2", "123456");
        Rec c = offer(sink, "carol", "3", "1234");

        assertEquals(1, b.calls.get());
        b.assertRefused(503, "upstream buffer full");
        assertEquals(0, c.calls.get(), "10 bytes fit exactly");
        assertEquals(10, sink.bufferedBytes());
        sink.close();
        a.assertAccepted();
        c.assertAccepted();
    }

    @Test
    void shouldFlushBufferedMessagesOnClose() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(100));
        Rec a = offer(sink, "alice", "1", "x");
        Rec b = offer(sink, "bob", "2", "y");
        Rec c = offer(sink, "carol", "3", "z");

        sink.close();
        // close() returns only once every callback has been called.
        for (Rec r : List.of(a, b, c)) {
            assertEquals(1, r.calls.get());
            assertTrue(r.accepted);
        }
        assertEquals(3, messages(hook.nextRequest()).size());
        assertTrue(hook.requests.isEmpty());
        Rec late = offer(sink, "dave", "4", "w");
        assertEquals(1, late.calls.get(), "refused inside offer()");
        late.assertRefused(503, "shutting down");
    }

    @Test
    void shouldRefuseWhatCannotBeFlushedBeforeTheCloseDeadline() throws Exception {
        WebhookSink sink = sink(hook.uri(), BASE.withMaxBatchMessages(2).withMaxInFlightBatches(1).withCloseDeadlineMs(300));
        hook.holdAll();
        List<Rec> recs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            recs.add(offer(sink, "c" + i, "s" + i, "p" + i));
        }
        assertEquals(2, messages(hook.nextRequest()).size(), "first batch in flight, second waits for it");

        long startNs = System.nanoTime();
        sink.close();
        long tookMs = (System.nanoTime() - startNs) / 1_000_000;

        for (Rec r : recs) {
            assertEquals(1, r.calls.get());
            r.assertRefused(503, "shutting down");
        }
        assertTrue(tookMs < 5_000, "close took " + tookMs + " ms");
        assertEquals(4L, sink.refusedByReason().get(WebhookSink.SHUTTING_DOWN));
        assertEquals(0, sink.bufferedMessages());
        hook.release();
    }

    @Test
    void shouldCallEveryCallbackExactlyOnceWhenOffersRaceWithClose() throws Exception {
        int threads = 4;
        WebhookSink sink = sink(hook.uri(), WebhookSink.Options.DEFAULTS.withMaxBatchMessages(50).withLingerMs(1));
        CountDownLatch someAccepted = new CountDownLatch(1);
        AtomicInteger duplicateCalls = new AtomicInteger();
        List<List<Rec>> pending = new ArrayList<>();
        long[] bufferFull = new long[threads];
        long[] offers = new long[threads];
        long giveUpNs = System.nanoTime() + SECONDS.toNanos(20);
        List<Thread> offerers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<Rec> mine = new ArrayList<>();
            pending.add(mine);
            int tt = t;
            // Offer flat out until close() shows (a synchronous "shutting down"), so offers overlap the shutdown.
            // Buffer-full refusals happen inside offer(): checked and counted here, not kept.
            Thread th = new Thread(() -> {
                for (int i = 0; System.nanoTime() - giveUpNs < 0; i++) {
                    Rec r = new Rec(someAccepted, duplicateCalls);
                    sink.offer("c" + tt, "s" + i, new byte[] {(byte) i}, r);
                    offers[tt]++;
                    if ("upstream buffer full".equals(r.reason)) {
                        bufferFull[tt]++;
                        continue;
                    }
                    mine.add(r);
                    if ("shutting down".equals(r.reason)) {
                        break;
                    }
                }
            });
            offerers.add(th);
            th.start();
        }
        assertTrue(someAccepted.await(5, SECONDS), "the webhook accepts while offers go on");
        sink.close();
        for (Thread th : offerers) {
            th.join(30_000);
            assertFalse(th.isAlive());
        }

        long total = 0;
        long full = 0;
        long accepted = 0;
        long shuttingDown = 0;
        for (int t = 0; t < threads; t++) {
            total += offers[t];
            full += bufferFull[t];
            List<Rec> mine = pending.get(t);
            assertEquals("shutting down", mine.getLast().reason, "offers overlapped close()");
            for (Rec r : mine) {
                assertEquals(1, r.calls.get(), "each callback exactly once");
                if (r.accepted) {
                    accepted++;
                } else {
                    assertEquals(503, r.code);
                    assertEquals("shutting down", r.reason);
                    shuttingDown++;
                }
            }
        }
        assertEquals(0, duplicateCalls.get(), "callbacks called more than once");
        assertTrue(accepted > 0, "some accepted");
        assertEquals(total, accepted + shuttingDown + full);
        assertEquals(total, sink.offered());
        assertEquals(accepted, sink.accepted());
        assertEquals(shuttingDown, sink.refusedByReason().get(WebhookSink.SHUTTING_DOWN));
        assertEquals(full, sink.refusedByReason().get(WebhookSink.BUFFER_FULL));
        assertEquals(0, sink.bufferedMessages());
        assertEquals(0, sink.bufferedBytes());
    }

    @Test
    void shouldBackOffExponentiallyWithJitterUpToTheCap() {
        WebhookSink sink = sink(URI.create("http://127.0.0.1:9/x"), WebhookSink.Options.DEFAULTS);
        for (int i = 0; i < 50; i++) {
            long first = sink.backoffMs(1);
            assertTrue(first >= 50 && first <= 100, "first " + first);
            long third = sink.backoffMs(3);
            assertTrue(third >= 200 && third <= 400, "third " + third);
            long capped = sink.backoffMs(40);
            assertTrue(capped >= 2_500 && capped <= 5_000, "capped " + capped);
        }
    }

    @Test
    void shouldValidateOptionsWithOperatorMessages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WebhookSink.Options.DEFAULTS.withMaxBatchMessages(0));
        assertEquals("upstream maxBatchMessages must be between 1 and 10000, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WebhookSink.Options.DEFAULTS.withBearerToken("a b"));
        assertThrows(IllegalArgumentException.class, () -> WebhookSink.Options.DEFAULTS.withRetries(3, 100, 50));
        assertFalse(WebhookSink.Options.DEFAULTS.withBearerToken("s3cret").toString().contains("s3cret"));
        assertNull(WebhookSink.Options.DEFAULTS.withBearerToken("").bearerToken());
    }
}
