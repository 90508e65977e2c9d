package io.switchboard.system;

import io.switchboard.server.GatewayFixture;
import io.switchboard.server.ApiClient;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.EventLoopGroup;
import io.switchboard.client.SwitchboardClient;
import io.switchboard.client.SwitchboardException;
import io.switchboard.client.SwitchboardListener;
import io.switchboard.client.Welcome;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Java client library ({@code io.switchboard.client}) against the real gateway, in process, over real sockets:
 * handshake, delivery and batched acks, takeover, resume across a server-initiated disconnect (with the seq origin
 * at zero and from the clock), drain with a retry hint, upstream SEND, topics and token refusal. Each test asserts
 * what docs/client.md and docs/protocol.md promise, and nothing stronger.
 */
@Timeout(30)
class ClientLibraryEndToEndTest {
    private static final long WAIT_S = 5;

    private static EventLoopGroup group;

    private final GatewayFixture gw = new GatewayFixture();
    private final List<SwitchboardClient> clients = new ArrayList<>();
    private final List<Recorder> recorders = new ArrayList<>();

    @BeforeAll
    static void startGroup() {
        group = SwitchboardClient.newEventLoopGroup(2);
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 1, SECONDS).awaitUninterruptibly(5, SECONDS);
    }

    @AfterEach
    void closeClientsThenGateway() {
        recorders.forEach(Recorder::releaseHeldDisconnect);
        clients.forEach(SwitchboardClient::close);
        gw.close();
    }

    // ------------------------------------------------------------------------------------------------- tests

    @Test
    void shouldConnectDeliverBinaryPayloadsExactlyAndLetTheServerSeeBatchedAcksCatchUp() throws Exception {
        gw.config.nodeName = "node-a";
        gw.start();
        Recorder rec = new Recorder();
        SwitchboardClient client = client("lib", rec, b -> b.heartbeatSeconds(30));

        Welcome w = client.connect().get(WAIT_S, SECONDS);
        assertEquals(new Welcome("lib", 30, 0, "node-a"), w, "hb=30 asked and within limits; seq origin 0");
        assertEquals(w, rec.next(rec.connected, "onConnected"), "onConnected carries the same WELCOME");
        assertTrue(client.isConnected());

        byte[] binary = {'M', 'S', 'G', ' ', '9', ' ', '1', '\n', 0, 0, '\r', '\n', (byte) 0xff, (byte) 0x80, 0, '\n'};
        ApiClient.Response r = gw.api().post("/v1/clients/lib/messages", binary);
        assertEquals(200, r.status(), r.body());
        assertEquals(1, r.json().get("seq").asLong());
        Recorder.Msg first = rec.nextMessage();
        assertEquals(1, first.seq());
        assertArrayEquals(binary, first.payload(), "payload byte for byte, LF and NUL included");

        int total = 40;
        for (int i = 2; i <= total; i++) {
            assertEquals(200, gw.push("lib", "m" + i).status());
        }
        for (int i = 2; i <= total; i++) {
            Recorder.Msg m = rec.nextMessage();
            assertEquals(i, m.seq());
            assertEquals("m" + i, m.text());
        }
        assertEquals(total, client.highestSeq());

        // At least every 32 messages or 1 s after the oldest unacknowledged one: the server catches up on its own.
        awaitAcked("lib", total);
        JsonNode info = gw.clientInfo("lib");
        assertEquals(total, info.get("seq").asLong());
        assertEquals(0, info.get("in_flight").asInt());
        assertEquals(0, info.get("queued").asInt());
        assertTrue(info.get("online").asBoolean());
        assertNoMoreMessages(rec, "lib", total);
    }

    @Test
    void shouldReconnectAfterBeingTakenOverAndTakeTheIdBack() throws Exception {
        gw.start();
        Recorder firstRec = new Recorder();
        SwitchboardClient first = client("dup", firstRec, b -> b.reconnectBackoffMs(1, 5));
        first.connect().get(WAIT_S, SECONDS);

        // The second instance does not reconnect, so that the ping-pong between the two ends after one round.
        Recorder secondRec = new Recorder();
        SwitchboardClient second = client("dup", secondRec, b -> b.reconnect(false));
        try {
            second.connect().get(WAIT_S, SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            // The first reconnects within a millisecond: its HELLO may be the newest before the second's handshake
            // completes, and the newest HELLO wins.
            assertEquals(409, assertInstanceOf(SwitchboardException.class, e.getCause()).code());
        }

        assertEquals(new Recorder.Bye(409, "taken over"), firstRec.next(firstRec.byes, "BYE to the first"));
        Recorder.Disconnect lost = firstRec.next(firstRec.disconnects, "first disconnected");
        assertEquals(409, assertInstanceOf(SwitchboardException.class, lost.cause()).code());
        // docs/client.md: it reconnects after anything but BYE 401/403, with the backoff of attempt 0.
        assertTrue(lost.reconnectDelayMs() >= 0 && lost.reconnectDelayMs() <= 1,
                "reconnect delay within uniform(0, base=1 ms): " + lost.reconnectDelayMs());

        firstRec.next(firstRec.connected, "first's first WELCOME");
        Welcome again = firstRec.next(firstRec.connected, "first reconnected");
        assertEquals("dup", again.clientId());
        assertEquals(new Recorder.Bye(409, "taken over"), secondRec.next(secondRec.byes, "BYE to the second"));
        assertEquals(-1, secondRec.next(secondRec.disconnects, "second disconnected").reconnectDelayMs(),
                "reconnect(false): the second stops");
        assertFalse(second.isConnected());
        GatewayFixture.await(first::isConnected, "the first is connected again");
        assertEquals(2, gw.stats().get("takeovers_total").asLong());

        // The id is the first's again: a push reaches it.
        assertEquals(1, gw.push("dup", "back").json().get("seq").asLong());
        Recorder.Msg m = firstRec.nextMessage();
        assertEquals("back", m.text());
        assertEquals(2, m.connection(), "delivered on the first's second connection");
        assertNull(secondRec.messages.poll());
    }

    @Test
    void shouldResumeAfterServerDisconnectWithoutDuplicatesAndReceiveWhatWasPushedWhileOffline() throws Exception {
        gw.config.windowMessages = 4; // m5 and m6 wait on the server for an ACK that the first connection never sends
        gw.start();
        Recorder rec = new Recorder();
        SwitchboardClient client = client("resumer", rec, b -> b.reconnectBackoffMs(1, 5));
        client.connect().get(WAIT_S, SECONDS);

        for (int i = 1; i <= 6; i++) {
            ApiClient.Response r = gw.api().post("/v1/clients/resumer/messages?ttl=60", "m" + i);
            assertEquals(200, r.status(), r.body());
            assertEquals(i, r.json().get("seq").asLong());
        }
        for (int i = 1; i <= 4; i++) {
            assertEquals(i, rec.nextMessage().seq());
        }

        CountDownLatch reconnectMayStart = rec.holdNextDisconnect();
        ApiClient.Response d = gw.api().delete("/v1/clients/resumer?code=503&reason=x");
        assertEquals(200, d.status(), d.body());
        assertEquals(new Recorder.Bye(503, "x"), rec.next(rec.byes, "BYE 503 x"));
        Recorder.Disconnect lost = rec.next(rec.disconnects, "disconnected");
        assertEquals(503, assertInstanceOf(SwitchboardException.class, lost.cause()).code());
        assertTrue(lost.reconnectDelayMs() >= 0 && lost.reconnectDelayMs() <= 1, "attempt 0 with base 1 ms");
        long highestAtDisconnect = client.highestSeq();

        // The client's event loop is held in onDisconnected: the client is certainly offline now.
        ApiClient.Response offline = gw.api().post("/v1/clients/resumer/messages?ttl=60", "m7");
        assertEquals(200, offline.status(), offline.body());
        assertEquals(7, offline.json().get("seq").asLong());
        assertFalse(offline.json().get("delivered").asBoolean());
        JsonNode info = gw.clientInfo("resumer");
        assertFalse(info.get("online").asBoolean());
        assertEquals(7 - info.get("acked").asLong(), info.get("queued").asLong(),
                "every message not acknowledged is retained: " + info);
        reconnectMayStart.countDown();

        rec.next(rec.connected, "first WELCOME");
        Welcome again = rec.next(rec.connected, "reconnected");
        assertEquals(7, again.seq());
        for (int i = 5; i <= 7; i++) {
            Recorder.Msg m = rec.nextMessage();
            assertEquals(i, m.seq());
            assertEquals("m" + i, m.text());
            if (i > highestAtDisconnect) {
                assertEquals(2, m.connection(), "m" + i + " arrives after the reconnect");
            }
        }
        assertNull(rec.resets.poll(), "the session survived: no reset");

        // Every seq once: nothing arrives before the next new message, and the server wrote each message once,
        // which it does only if the reconnect said resume=<highest seq received>.
        assertNoMoreMessages(rec, "resumer", 7);
        assertEquals(8, gw.stats().get("messages").get("written").asLong());
        awaitAcked("resumer", 8);
    }

    @Test
    void shouldDeliverAcrossAReconnectWhenTheServerForgotTheSessionAndNumbersNewSessionsFromTheClock()
            throws Exception {
        gw.config.seqOriginFromClock = true; // the production default
        gw.start();
        Recorder rec = new Recorder();
        SwitchboardClient client = client("clocked", rec, b -> b.reconnectBackoffMs(1, 5).ackPolicy(1, 0));
        Welcome w = client.connect().get(WAIT_S, SECONDS);
        long origin = GatewayFixture.START_MS * 1000;
        assertEquals(origin, w.seq(), "a new session starts from the clock in microseconds");

        for (int i = 1; i <= 3; i++) {
            assertEquals(origin + i, gw.push("clocked", "old" + i).json().get("seq").asLong());
        }
        for (int i = 1; i <= 3; i++) {
            assertEquals(origin + i, rec.nextMessage().seq());
        }
        awaitAcked("clocked", origin + 3);

        CountDownLatch reconnectMayStart = rec.holdNextDisconnect();
        assertEquals(200, gw.api().delete("/v1/clients/clocked?code=503&reason=restart").status());
        rec.next(rec.disconnects, "disconnected");
        GatewayFixture.await(() -> gw.server().registry().size() == 0, "the server forgot the acknowledged session");
        gw.clock.advanceMs(1);
        ApiClient.Response r = gw.api().post("/v1/clients/clocked/messages?ttl=60", "important");
        assertEquals(200, r.status(), r.body());
        long newSeq = r.json().get("seq").asLong();
        assertTrue(newSeq > origin + 3, newSeq + " numbers above the forgotten session");
        reconnectMayStart.countDown();

        rec.next(rec.connected, "first WELCOME");
        assertEquals(newSeq, rec.next(rec.connected, "reconnected").seq());
        Recorder.Msg m = rec.nextMessage();
        assertEquals(newSeq, m.seq());
        assertEquals("important", m.text());
        assertEquals(2, m.connection());
        assertNull(rec.resets.poll(), "WELCOME seq is above the resume: no session reset");
        assertNoMoreMessages(rec, "clocked", newSeq);
    }

    /**
     * The contrast to the test above, as docs/protocol.md warns for {@code --seq-origin zero}: the library notices
     * the reset (WELCOME seq below its resume), but the message pushed while it was away is lost.
     */
    @Test
    void shouldReportSessionResetAndMissTheOfflineMessageWhenTheServerNumbersNewSessionsFromZero() throws Exception {
        gw.start(); // seqOriginFromClock = false
        Recorder rec = new Recorder();
        SwitchboardClient client = client("zeroed", rec, b -> b.reconnectBackoffMs(1, 5).ackPolicy(1, 0));
        client.connect().get(WAIT_S, SECONDS);
        for (int i = 1; i <= 3; i++) {
            gw.push("zeroed", "old" + i);
        }
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, rec.nextMessage().seq());
        }
        awaitAcked("zeroed", 3);

        CountDownLatch reconnectMayStart = rec.holdNextDisconnect();
        assertEquals(200, gw.api().delete("/v1/clients/zeroed?code=503&reason=restart").status());
        rec.next(rec.disconnects, "disconnected");
        GatewayFixture.await(() -> gw.server().registry().size() == 0, "the server forgot the acknowledged session");
        assertEquals(1, gw.api().post("/v1/clients/zeroed/messages?ttl=60", "lost").json().get("seq").asLong());
        reconnectMayStart.countDown();

        rec.next(rec.connected, "first WELCOME");
        assertEquals(1, rec.next(rec.connected, "reconnected").seq());
        assertEquals(new Recorder.Reset(3, 1), rec.next(rec.resets, "session reset"));
        assertEquals(1, client.highestSeq(), "highestSeq() becomes the server's seq");
        assertNoMoreMessages(rec, "zeroed", 1); // seq 1 'lost' was dropped by the server as covered by resume=3
    }

    @Test
    void shouldHonourTheDrainRetryHintBeforeReconnecting() throws Exception {
        gw.config.drainPeriodSec = 1;
        gw.config.reconnectSpreadMs = 0; // retry = 1000 ms exactly
        gw.start();
        Recorder rec = new Recorder();
        SwitchboardClient client = client("drained", rec, b -> b.reconnectBackoffMs(1, 5));
        client.connect().get(WAIT_S, SECONDS);

        assertEquals(202, gw.api().post("/v1/drain", "").status());
        Recorder.Bye bye = rec.next(rec.byes, "BYE 503 draining");
        assertEquals(new Recorder.Bye(503, "draining"), bye);
        Recorder.Disconnect sentAway = rec.next(rec.disconnects, "disconnected by the drain");
        assertEquals(503, assertInstanceOf(SwitchboardException.class, sentAway.cause()).code());
        // docs/client.md: the server's retry plus up to 10 % (at most 1 s) of jitter, not the 1 ms backoff.
        long delay = sentAway.reconnectDelayMs();
        assertTrue(delay >= 1000 && delay <= 1100, "reconnect delay " + delay + " outside [1000, 1100] ms");

        // And it does wait that long: the next attempt (refused, the server has stopped listening) comes later. Timed
        // from onBye, which precedes the scheduling of the reconnect.
        Recorder.Disconnect nextAttempt = rec.next(rec.disconnects, "the next attempt");
        long waitedMs = TimeUnit.NANOSECONDS.toMillis(nextAttempt.atNanos() - bye.atNanos());
        assertTrue(waitedMs >= 1000, "reconnected after " + waitedMs + " ms, before the retry hint");
        assertInstanceOf(ConnectException.class, rootCause(nextAttempt.cause()), String.valueOf(nextAttempt.cause()));
        assertEquals(1, rec.connected.size(), "never welcomed again");
    }

    @Test
    void shouldFailSendWithTheServersCodeWithoutUpstreamAndDeliverTopicMessages() throws Exception {
        gw.start();
        Recorder rec = new Recorder();
        SwitchboardClient client = client("talker", rec, b -> { });
        CompletableFuture<Void> sub = client.subscribe("t"); // before connect: sent after the WELCOME
        client.connect().get(WAIT_S, SECONDS);
        sub.get(WAIT_S, SECONDS);

        CompletableFuture<Void> send = client.send("order-1", "{\"qty\":1}".getBytes(StandardCharsets.UTF_8));
        SwitchboardException nack = serverFailure(send);
        assertEquals(503, nack.code());
        assertTrue(nack.fromServer());
        assertTrue(client.isConnected(), "a NACK leaves the connection open");

        ApiClient.Response r = gw.api().post("/v1/topics/t/messages", "news");
        assertEquals(200, r.status(), r.body());
        assertEquals(1, r.json().get("delivered").asLong());
        Recorder.Msg m = rec.nextMessage();
        assertEquals(1, m.seq());
        assertEquals("news", m.text());
        assertEquals(0, gw.api().post("/v1/topics/other/messages", "not for us").json().get("delivered").asLong());
        assertNull(rec.errors.poll());
    }

    @Test
    void shouldSubscribeTopicsAgainAfterReconnecting() throws Exception {
        gw.start();
        Recorder rec = new Recorder();
        SwitchboardClient client = client("sub-again", rec, b -> b.reconnectBackoffMs(1, 5));
        client.connect().get(WAIT_S, SECONDS);
        client.subscribe("t").get(WAIT_S, SECONDS);
        assertEquals(1, gw.api().post("/v1/topics/t/messages", "one").json().get("delivered").asLong());
        assertEquals("one", rec.nextMessage().text());

        assertEquals(200, gw.api().delete("/v1/clients/sub-again?code=503&reason=x").status());
        rec.next(rec.connected, "first WELCOME");
        rec.next(rec.connected, "reconnected");
        // The SUB is written with the WELCOME's read batch; a SEND after it is answered only once SUB was handled.
        assertEquals(503, serverFailure(client.send("barrier", new byte[0])).code());
        assertEquals(1, gw.api().post("/v1/topics/t/messages", "two").json().get("delivered").asLong(),
                "subscribed again by the library");
        Recorder.Msg m = rec.nextMessage();
        assertEquals("two", m.text());
        assertEquals(2, m.connection());
    }

    @Test
    void shouldStopAfterBye401AndConnectWithTheRightToken() throws Exception {
        gw.authenticator = (clientId, token, nowMs) -> "good".equals(token) ? null : "bad token";
        gw.start();
        Recorder badRec = new Recorder();
        SwitchboardClient bad = client("guarded", badRec, b -> b.token("bad").reconnectBackoffMs(1, 1));
        CompletableFuture<Welcome> refused = bad.connect();
        assertEquals(401, serverFailure(refused).code());
        assertEquals(new Recorder.Bye(401, "bad token"), badRec.next(badRec.byes, "BYE 401"));
        Recorder.Disconnect d = badRec.next(badRec.disconnects, "disconnected");
        assertEquals(-1, d.reconnectDelayMs(), "no reconnect after BYE 401");
        assertEquals(401, assertInstanceOf(SwitchboardException.class, d.cause()).code());
        assertFalse(bad.isConnected());

        Recorder goodRec = new Recorder();
        SwitchboardClient good = client("guarded", goodRec, b -> b.token("good"));
        assertEquals("guarded", good.connect().get(WAIT_S, SECONDS).clientId());
        // With a 1 ms backoff a reconnecting client would have been refused many times by now.
        gw.assertRefusals("auth_failed", 1);
        assertEquals(1, gw.stats().get("handshakes_total").asLong());
        assertTrue(badRec.connected.isEmpty());
        assertNull(badRec.disconnects.poll(), "no further attempt");
    }

    @Test
    void shouldStopWhenTheServerSaysBye401AndConnectAgainAfterUpdateToken() throws Exception {
        gw.authenticator = (clientId, token, nowMs) -> "v2".equals(token) ? null : "token expired";
        gw.start();
        assertEquals(1, gw.api().post("/v1/clients/expiring/messages?ttl=60", "one").json().get("seq").asLong());
        Recorder rec = new Recorder();
        SwitchboardClient client = client("expiring", rec, b -> b.token("v2").reconnectBackoffMs(1, 1));
        client.connect().get(WAIT_S, SECONDS);
        assertEquals("one", rec.nextMessage().text());

        // The backend ends the session as if the token had expired: the library stops.
        assertEquals(200, gw.api().delete("/v1/clients/expiring?code=401&reason=token%20expired").status());
        assertEquals(new Recorder.Bye(401, "token expired"), rec.next(rec.byes, "BYE 401"));
        assertEquals(-1, rec.next(rec.disconnects, "disconnected").reconnectDelayMs(), "no reconnect after 401");
        assertFalse(client.isConnected());

        client.updateToken("v1");
        assertEquals(401, serverFailure(client.connect()).code(), "connect() tries again, with the new token");
        assertEquals(new Recorder.Bye(401, "token expired"), rec.next(rec.byes, "BYE 401 to the wrong new token"));
        client.updateToken("v2");
        Welcome w = client.connect().get(WAIT_S, SECONDS);
        assertEquals(1, w.seq());
        // onConnected may run just after connect()'s future completes: wait for it, bounded.
        GatewayFixture.await(() -> rec.connected.size() >= 2, "the second onConnected");
        assertEquals(2, rec.connected.size(), "welcomed with v2 twice, never with v1");
        assertNoMoreMessages(rec, "expiring", 1); // resumed from seq 1: 'one' is not delivered again
    }

    @Test
    void shouldReceiveAPayloadOfTheServersMaximumSizeByteForByte() throws Exception {
        gw.start();
        Recorder rec = new Recorder();
        SwitchboardClient client = client("big", rec, b -> { });
        client.connect().get(WAIT_S, SECONDS);
        byte[] payload = new byte[gw.config.maxPayloadBytes];
        new java.util.Random(42).nextBytes(payload);
        assertEquals(200, gw.api().post("/v1/clients/big/messages", payload).status());
        Recorder.Msg m = rec.nextMessage();
        assertEquals(1, m.seq());
        assertArrayEquals(payload, m.payload());
    }

    @Test
    void shouldSkipReportAndAcknowledgeAStoredMessageOverItsPayloadLimit() throws Exception {
        gw.start();
        Recorder rec = new Recorder();
        SwitchboardClient client = client("picky", rec, b -> b.maxPayloadBytes(16).reconnectBackoffMs(1, 5));
        client.connect().get(WAIT_S, SECONDS);
        assertEquals(200, gw.api().post("/v1/clients/picky/messages?ttl=60", "x".repeat(17)).status());
        assertEquals(200, gw.api().post("/v1/clients/picky/messages?ttl=60", "fits").status());
        Recorder.Err e = rec.next(rec.errors, "the oversized message reported");
        assertEquals(413, e.code());
        assertTrue(e.text().contains("larger than maxPayloadBytes (16)"), e.text());
        Recorder.Msg m = rec.nextMessage();
        assertEquals("fits", new String(m.payload(), java.nio.charset.StandardCharsets.UTF_8));
        assertNull(rec.disconnects.poll(), "the connection stays");
        // Acknowledged with the next one: the server keeps neither, so a reconnect brings neither back.
        for (int i = 0; i < 100 && gw.clientInfo("picky").get("queued").asInt() != 0; i++) {
            Thread.sleep(50);
        }
        assertEquals(0, gw.clientInfo("picky").get("queued").asInt(), "both acknowledged");
        assertNoMoreMessages(rec, "picky", m.seq());
    }

    @Test
    void shouldAcknowledgeExactlyUpToTheMessageWhoseCallbackClosedTheClient() throws Exception {
        gw.start();
        AtomicReference<SwitchboardClient> self = new AtomicReference<>();
        Recorder rec = new Recorder() {
            @Override
            public void onMessage(long seq, byte[] payload) {
                super.onMessage(seq, payload);
                if (seq == 2) {
                    self.get().closeAsync();
                }
            }
        };
        // Retained before the client connects, so that all five are on their way when it closes at the second
        // (pushed one by one to a connected client, the session could end between pushes and a new one start).
        for (int i = 1; i <= 5; i++) {
            assertEquals(i, gw.api().post("/v1/clients/closer/messages?ttl=60", "m" + i).json().get("seq").asLong());
        }
        SwitchboardClient closer = client("closer", rec, b -> { });
        self.set(closer);
        closer.connect().get(WAIT_S, SECONDS);
        assertEquals(1, rec.nextMessage().seq());
        assertEquals(2, rec.nextMessage().seq());
        assertNull(rec.next(rec.disconnects, "closed").cause(), "close() ended it");
        GatewayFixture.await(() -> !online("closer"), "the server saw the client leave");
        JsonNode info = gw.clientInfo("closer");
        assertEquals(2, info.get("acked").asLong(), "acknowledged up to the closing message: " + info);
        assertEquals(3, info.get("queued").asInt());
        assertNull(rec.messages.poll(), "messages after the closing one are not delivered");

        Recorder nextRec = new Recorder();
        SwitchboardClient next = client("closer", nextRec, b -> b.resumeFrom(closer.highestSeq()));
        next.connect().get(WAIT_S, SECONDS);
        for (int i = 3; i <= 5; i++) {
            Recorder.Msg m = nextRec.nextMessage();
            assertEquals(i, m.seq());
            assertEquals("m" + i, m.text());
        }
        assertNoMoreMessages(nextRec, "closer", 5);
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private SwitchboardClient client(String id, Recorder rec, Consumer<SwitchboardClient.Builder> tweak) {
        SwitchboardClient.Builder b = SwitchboardClient.builder()
                .host("127.0.0.1").port(gw.server().port())
                .clientId(id)
                .eventLoopGroup(group)
                .listener(rec);
        tweak.accept(b);
        SwitchboardClient c = b.build();
        clients.add(c);
        recorders.add(rec);
        return c;
    }

    /** Waits (bounded) until the server reports {@code acked == seq} for the client. */
    private void awaitAcked(String clientId, long seq) {
        GatewayFixture.await(() -> field(clientId, "acked") == seq, "the server saw ACK " + seq + " from " + clientId);
    }

    private boolean online(String clientId) {
        try {
            return gw.clientInfo(clientId).get("online").asBoolean();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private long field(String clientId, String name) {
        try {
            return gw.clientInfo(clientId).get(name).asLong();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Proves that nothing else (no duplicate, no stray) was delivered: a new push must be the very next message, with
     * the next seq, since anything the server still had for the client would be written before it.
     */
    private void assertNoMoreMessages(Recorder rec, String clientId, long lastSeq) throws Exception {
        assertEquals(lastSeq + 1, assertNoMoreMessages(rec, clientId), "the session's seq went on");
    }

    /** As above, whatever the session's seq; returns the sentinel's seq. */
    private long assertNoMoreMessages(Recorder rec, String clientId) throws Exception {
        ApiClient.Response r = gw.push(clientId, "sentinel");
        assertEquals(200, r.status(), r.body());
        long seq = r.json().get("seq").asLong();
        Recorder.Msg m = rec.nextMessage();
        assertEquals("sentinel", m.text(), "unexpected message " + m.seq() + " before the sentinel");
        assertEquals(seq, m.seq());
        return seq;
    }

    /** The {@link SwitchboardException} a future failed with, within the bounded wait. */
    private static SwitchboardException serverFailure(CompletableFuture<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(WAIT_S, SECONDS));
        return assertInstanceOf(SwitchboardException.class, e.getCause());
    }

    private static Throwable rootCause(Throwable t) {
        while (t != null && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    /** Records the listener's events in queues for bounded waits; can hold the client's loop in onDisconnected. */
    private static class Recorder implements SwitchboardListener {
        record Msg(long seq, byte[] payload, int connection) {
            String text() {
                return new String(payload, StandardCharsets.UTF_8);
            }
        }

        record Bye(int code, String text, long atNanos) {
            Bye(int code, String text) {
                this(code, text, 0);
            }

            @Override
            public boolean equals(Object o) { // code and text; the time is for measuring only
                return o instanceof Bye b && b.code == code && b.text.equals(text);
            }

            @Override
            public int hashCode() {
                return code * 31 + text.hashCode();
            }
        }

        record Disconnect(Throwable cause, long reconnectDelayMs, long atNanos) {
        }

        record Reset(long resumedFrom, long serverSeq) {
        }

        record Err(int code, String text) {
        }

        final BlockingQueue<Welcome> connected = new LinkedBlockingQueue<>();
        final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();
        final BlockingQueue<Bye> byes = new LinkedBlockingQueue<>();
        final BlockingQueue<Disconnect> disconnects = new LinkedBlockingQueue<>();
        final BlockingQueue<Reset> resets = new LinkedBlockingQueue<>();
        final BlockingQueue<Err> errors = new LinkedBlockingQueue<>();
        private final AtomicInteger connections = new AtomicInteger();
        private final AtomicReference<CountDownLatch> hold = new AtomicReference<>();
        private final List<CountDownLatch> holds = new java.util.concurrent.CopyOnWriteArrayList<>();

        /**
         * The next onDisconnected blocks the client's event loop (bounded) until the returned latch is counted down,
         * so that its already scheduled reconnect cannot run: the test knows the client is offline meanwhile. A test
         * device only; real listeners must not block.
         */
        CountDownLatch holdNextDisconnect() {
            CountDownLatch latch = new CountDownLatch(1);
            holds.add(latch);
            hold.set(latch);
            return latch;
        }

        void releaseHeldDisconnect() {
            holds.forEach(CountDownLatch::countDown);
        }

        @Override
        public void onConnected(Welcome welcome) {
            connections.incrementAndGet();
            connected.add(welcome);
        }

        @Override
        public void onMessage(long seq, byte[] payload) {
            messages.add(new Msg(seq, payload, connections.get()));
        }

        @Override
        public void onSessionReset(long resumedFromSeq, long serverSeq) {
            resets.add(new Reset(resumedFromSeq, serverSeq));
        }

        @Override
        public void onError(int code, String text) {
            errors.add(new Err(code, text));
        }

        @Override
        public void onBye(int code, String text) {
            byes.add(new Bye(code, text, System.nanoTime()));
        }

        @Override
        public void onDisconnected(Throwable cause, long reconnectDelayMs) {
            disconnects.add(new Disconnect(cause, reconnectDelayMs, System.nanoTime()));
            CountDownLatch latch = hold.getAndSet(null);
            if (latch != null) {
                try {
                    if (!latch.await(WAIT_S, SECONDS)) {
                        System.err.println("ClientLibraryEndToEndTest: held disconnect released by timeout");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        <T> T next(BlockingQueue<T> queue, String what) throws InterruptedException {
            T t = queue.poll(WAIT_S, SECONDS);
            if (t == null) {
                fail("no '" + what + "' within " + WAIT_S + " s");
            }
            return t;
        }

        Msg nextMessage() throws InterruptedException {
            Msg m = next(messages, "message");
            assertNotNull(m.payload());
            return m;
        }
    }
}
