package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.switchboard.transport.Transport;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Server push through the API: seq, acks, retention, resume, the in-flight window and the queue bounds. */
@Timeout(30)
class GatewayDeliveryTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldDeliverBinaryPayloadByteForByte() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("bin");
        byte[] payload = {'M', 'S', 'G', ' ', '9', '\n', 0, 0, '\r', '\n', (byte) 0xff, (byte) 0x80, '\n'};
        ApiClient.Response r = gw.api().post("/v1/clients/bin/messages", payload);
        assertEquals(200, r.status(), r.body());
        assertEquals("{\"seq\":1,\"delivered\":true}", r.body());
        SwbTestClient.Msg m = c.readMsg();
        assertEquals(1, m.seq());
        assertArrayEquals(payload, m.payload());
        c.sync();
    }

    @Test
    void shouldDeliverEmptyPayload() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("empty");
        assertEquals(200, gw.api().post("/v1/clients/empty/messages", new byte[0]).status());
        SwbTestClient.Msg m = c.readMsg();
        assertEquals(1, m.seq());
        assertEquals(0, m.payload().length);
    }

    @Test
    void shouldNumberPushesPerClientInAcceptOrder() throws Exception {
        gw.start();
        SwbTestClient a = gw.hello("a");
        SwbTestClient b = gw.hello("b");
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, gw.push("a", "a" + i).json().get("seq").asLong());
        }
        assertEquals(1, gw.push("b", "b1").json().get("seq").asLong());
        for (int i = 1; i <= 3; i++) {
            SwbTestClient.Msg m = a.readMsg();
            assertEquals(i, m.seq());
            assertEquals("a" + i, m.text());
        }
        assertEquals("b1", b.readMsg().text());
    }

    @Test
    void shouldReportClientStateAfterPartialAck() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("state");
        gw.push("state", "one");
        gw.push("state", "two");
        assertEquals(1, c.readMsg().seq());
        assertEquals(2, c.readMsg().seq());
        c.ack(1);
        c.sync(); // the ACK has been processed

        JsonNode info = gw.clientInfo("state");
        assertEquals("state", info.get("id").asText());
        assertTrue(info.get("online").asBoolean());
        assertEquals(2, info.get("seq").asLong());
        assertEquals(1, info.get("acked").asLong());
        assertEquals(1, info.get("queued").asInt());
        assertEquals(3, info.get("queued_bytes").asLong());
        assertEquals(1, info.get("in_flight").asInt());
        assertEquals(c.localAddress(), info.get("remote").asText());
    }

    @Test
    void shouldRefusePushToOfflineClientWithoutTtl() throws Exception {
        gw.start();
        ApiClient.Response r = gw.push("nobody", "lost");
        assertEquals(404, r.status());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        assertEquals(404, r.json().get("status").asInt());
        assertFalse(r.json().get("error").asText().isEmpty());
        assertEquals(404, gw.api().get("/v1/clients/nobody").status(), "a refused push leaves no session behind");
        gw.assertRefusals("client_offline", 1);
    }

    @Test
    void shouldRetainPushWithTtlUntilClientConnects() throws Exception {
        gw.start();
        ApiClient.Response r = gw.api().post("/v1/clients/later/messages?ttl=60", "for later");
        assertEquals(200, r.status(), r.body());
        assertEquals(1, r.json().get("seq").asLong());
        assertFalse(r.json().get("delivered").asBoolean());
        JsonNode info = gw.clientInfo("later");
        assertFalse(info.get("online").asBoolean());
        assertEquals(1, info.get("queued").asInt());
        assertTrue(info.get("remote").isNull());

        SwbTestClient c = gw.connect();
        assertEquals("WELCOME later v=1 hb=60 seq=1", c.hello("later", "resume=0"));
        SwbTestClient.Msg m = c.readMsg();
        assertEquals(1, m.seq());
        assertEquals("for later", m.text());
        c.sync();
    }

    @Test
    void shouldResendOnlyUnackedRetainedMessagesOnResume() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("resumer");
        gw.api().post("/v1/clients/resumer/messages?ttl=60", "m1");
        gw.api().post("/v1/clients/resumer/messages?ttl=60", "m2");
        assertEquals(1, first.readMsg().seq());
        assertEquals(2, first.readMsg().seq());
        first.ack(1);
        first.leave();

        SwbTestClient second = gw.connect();
        assertEquals("WELCOME resumer v=1 hb=60 seq=2", second.hello("resumer", "resume=1"));
        SwbTestClient.Msg m = second.readMsg();
        assertEquals(2, m.seq());
        assertEquals("m2", m.text());
        second.sync(); // and nothing else
    }

    @Test
    void shouldResendAllUnackedRetainedMessagesInOrderWhenResumingFromZero() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("again");
        for (int i = 1; i <= 3; i++) {
            gw.api().post("/v1/clients/again/messages?ttl=60", "m" + i);
        }
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, first.readMsg().seq());
        }
        first.leave();

        SwbTestClient second = gw.connect();
        second.hello("again", "resume=0");
        for (int i = 1; i <= 3; i++) {
            SwbTestClient.Msg m = second.readMsg();
            assertEquals(i, m.seq());
            assertEquals("m" + i, m.text());
        }
        second.sync();
    }

    @Test
    void shouldNotResendAnythingWhenResumingFromTheLastSeq() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("uptodate");
        gw.api().post("/v1/clients/uptodate/messages?ttl=60", "m1");
        assertEquals(1, first.readMsg().seq());
        first.leave();

        SwbTestClient second = gw.connect();
        assertEquals("WELCOME uptodate v=1 hb=60 seq=1", second.hello("uptodate", "resume=1"));
        second.sync();
        JsonNode info = gw.clientInfo("uptodate");
        assertEquals(1, info.get("acked").asLong(), "resume=1 acknowledges message 1");
        assertEquals(0, info.get("queued").asInt());
        assertEquals(1, gw.stats().get("messages").get("acked").asLong(), "and the server counts it acknowledged");
    }

    @Test
    void shouldNeverResendTtlZeroMessageThatWasNotAckedBeforeDisconnect() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("mixed");
        gw.push("mixed", "volatile");                                         // ttl=0: seq 1
        gw.api().post("/v1/clients/mixed/messages?ttl=60", "durable");       // retained: seq 2
        assertEquals("volatile", first.readMsg().text());
        assertEquals("durable", first.readMsg().text());
        first.leave(); // nothing acked

        SwbTestClient second = gw.connect();
        assertEquals("WELCOME mixed v=1 hb=60 seq=2", second.hello("mixed", "resume=0"));
        SwbTestClient.Msg m = second.readMsg();
        assertEquals(2, m.seq());
        assertEquals("durable", m.text());
        second.sync(); // the ttl=0 message is gone
    }

    @Test
    void shouldForgetTtlZeroMessagesOfADisconnectedClient() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("fleeting");
        gw.push("fleeting", "now or never");
        assertEquals(1, first.readMsg().seq());
        first.leave(); // not acked
        GatewayFixture.await(() -> gw.server().registry().size() == 0, "the closed connection is processed");

        assertEquals(404, gw.api().get("/v1/clients/fleeting").status(), "nothing retained: forgotten");
        SwbTestClient second = gw.connect();
        second.hello("fleeting", "resume=0");
        second.sync();
        assertEquals(1, gw.stats().path("messages").path("dropped_on_disconnect").asLong());
    }

    @Test
    void shouldNotDeliverRetainedMessageAfterItsTtlExpired() throws Exception {
        gw.start();
        assertEquals(200, gw.api().post("/v1/clients/late/messages?ttl=5", "stale").status());
        gw.clock.advanceSec(6);
        assertEquals(200, gw.api().post("/v1/clients/late/messages?ttl=60", "fresh").status());

        SwbTestClient c = gw.connect();
        c.hello("late", "resume=0");
        assertEquals("fresh", c.readMsg().text());
        c.sync();
    }

    @Test
    void shouldNotResendRetainedMessageWhoseTtlExpiredWhileOffline() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("expiring");
        gw.api().post("/v1/clients/expiring/messages?ttl=5", "short-lived");
        gw.api().post("/v1/clients/expiring/messages?ttl=60", "long-lived");
        assertEquals(1, first.readMsg().seq());
        assertEquals(2, first.readMsg().seq());
        first.leave(); // nothing acked
        gw.clock.advanceSec(6);

        SwbTestClient second = gw.connect();
        assertEquals("WELCOME expiring v=1 hb=60 seq=2", second.hello("expiring", "resume=0"));
        SwbTestClient.Msg m = second.readMsg();
        assertEquals(2, m.seq());
        assertEquals("long-lived", m.text());
        second.sync();
    }

    @Test
    void shouldForgetOfflineClientOnceItsRetainedMessagesExpired() throws Exception {
        gw.start();
        assertEquals(200, gw.api().post("/v1/clients/gone/messages?ttl=5", "x").status());
        assertEquals(1, gw.stats().get("sessions_offline_retained").asLong());
        gw.advanceSec(6); // the offline sweep runs with the tick

        assertEquals(404, gw.api().get("/v1/clients/gone").status());
        JsonNode stats = gw.stats();
        assertEquals(0, stats.get("sessions_known").asLong());
        assertEquals(1, stats.path("messages").path("expired").asLong());
    }

    @Test
    void shouldDropRetainedMessageThatExpiredWhileWaitingForTheWindow() throws Exception {
        gw.config.windowMessages = 1;
        gw.start();
        SwbTestClient c = gw.hello("waiting");
        assertTrue(gw.push("waiting", "first").json().get("delivered").asBoolean());
        ApiClient.Response queued = gw.api().post("/v1/clients/waiting/messages?ttl=5", "second");
        assertFalse(queued.json().get("delivered").asBoolean());
        assertEquals(1, c.readMsg().seq());
        gw.clock.advanceSec(6);
        c.ack(1);
        c.sync(); // the expired second message is not sent once the window opens
        assertEquals(200, gw.push("waiting", "third").status());
        SwbTestClient.Msg m = c.readMsg();
        assertEquals(3, m.seq());
        assertEquals("third", m.text());
    }

    @Test
    void shouldHoldMessagesBeyondTheWindowUntilAcked() throws Exception {
        gw.config.windowMessages = 2;
        gw.start();
        SwbTestClient c = gw.hello("windowed");
        assertTrue(gw.push("windowed", "m1").json().get("delivered").asBoolean());
        assertTrue(gw.push("windowed", "m2").json().get("delivered").asBoolean());
        JsonNode third = gw.push("windowed", "m3").json();
        assertEquals(3, third.get("seq").asLong());
        assertFalse(third.get("delivered").asBoolean());

        assertEquals(1, c.readMsg().seq());
        assertEquals(2, c.readMsg().seq());
        c.sync(); // the third is held back
        assertEquals(2, gw.clientInfo("windowed").get("in_flight").asInt());

        c.ack(2);
        SwbTestClient.Msg m = c.readMsg();
        assertEquals(3, m.seq());
        assertEquals("m3", m.text());
    }

    @Test
    void shouldReleaseOneWindowSlotPerAckedMessage() throws Exception {
        gw.config.windowMessages = 2;
        gw.start();
        SwbTestClient c = gw.hello("slots");
        for (int i = 1; i <= 4; i++) {
            gw.push("slots", "m" + i);
        }
        assertEquals(1, c.readMsg().seq());
        assertEquals(2, c.readMsg().seq());
        c.ack(1);
        assertEquals(3, c.readMsg().seq());
        c.sync(); // only one slot was freed
        c.ack(3);
        assertEquals(4, c.readMsg().seq());
    }

    @Test
    void shouldRefusePushWhenTheClientQueueIsFull() throws Exception {
        gw.config.windowMessages = 1;
        gw.config.maxQueuedMessagesPerClient = 2;
        gw.start();
        SwbTestClient c = gw.hello("full");
        assertEquals(200, gw.push("full", "m1").status());
        assertEquals(200, gw.push("full", "m2").status());
        ApiClient.Response r = gw.push("full", "m3");
        assertEquals(429, r.status());
        assertEquals(429, r.json().get("status").asInt());
        assertTrue(r.json().get("error").asText().contains("queue"), r.body());
        gw.assertRefusals("queue_full", 1);

        assertEquals(1, c.readMsg().seq());
        c.ack(1);
        assertEquals(2, c.readMsg().seq());
        assertEquals(3, gw.push("full", "m3").json().get("seq").asLong(), "room again after the ack");
    }

    @Test
    void expiredMessagesBehindAFullWindowFreeTheirPlacesForANewPush() throws Exception {
        gw.config.windowMessages = 1;
        gw.config.maxQueuedMessagesPerClient = 3;
        gw.start();
        SwbTestClient c = gw.hello("stalled");
        assertEquals(200, gw.api().post("/v1/clients/stalled/messages?ttl=60", "m1").status());
        assertEquals(1, c.readMsg().seq()); // in flight, never acknowledged: the window stays full
        assertEquals(200, gw.api().post("/v1/clients/stalled/messages?ttl=1", "m2").status());
        assertEquals(200, gw.api().post("/v1/clients/stalled/messages?ttl=1", "m3").status());
        assertEquals(429, gw.api().post("/v1/clients/stalled/messages?ttl=60", "m4").status(), "full");
        gw.advanceSec(2);
        ApiClient.Response r = gw.api().post("/v1/clients/stalled/messages?ttl=60", "m4");
        assertEquals(200, r.status(), "m2 and m3 expired unsent: their places are free");
        assertEquals(2, gw.clientInfo("stalled").get("queued").asInt(), "m1 and m4");
        c.ack(1);
        SwbTestClient.Msg next = c.readMsg();
        assertEquals("m4", next.text(), "the expired ones are not sent");
    }

    @Test
    void shouldRefuseRetainedPushWhenTheOfflineQueueIsFull() throws Exception {
        gw.config.maxQueuedMessagesPerClient = 2;
        gw.start();
        assertEquals(200, gw.api().post("/v1/clients/away/messages?ttl=60", "m1").status());
        assertEquals(200, gw.api().post("/v1/clients/away/messages?ttl=60", "m2").status());
        ApiClient.Response r = gw.api().post("/v1/clients/away/messages?ttl=60", "m3");
        assertEquals(429, r.status());
        assertEquals(429, r.json().get("status").asInt());
        assertEquals(2, gw.clientInfo("away").get("queued").asInt());
    }

    @Test
    void shouldRefusePayloadLargerThanMaxPayload() throws Exception {
        gw.config.maxPayloadBytes = 16;
        gw.start();
        gw.hello("small");
        ApiClient.Response r = gw.push("small", "x".repeat(17));
        assertEquals(413, r.status());
        assertEquals(413, r.json().get("status").asInt());
        assertEquals(200, gw.push("small", "x".repeat(16)).status(), "exactly the maximum is allowed");
        gw.assertRefusals("payload_too_large", 1);
    }

    @Test
    void shouldRefuseNegativeOrNonNumericTtl() throws Exception {
        gw.start();
        assertEquals(400, gw.api().post("/v1/clients/x/messages?ttl=-1", "p").status());
        ApiClient.Response r = gw.api().post("/v1/clients/x/messages?ttl=soon", "p");
        assertEquals(400, r.status());
        assertEquals(400, r.json().get("status").asInt());
    }

    @Test
    void shouldPushPayloadGivenAsUtf8Text() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("utf");
        String text = "grüße ✓";
        gw.push("utf", text);
        SwbTestClient.Msg m = c.readMsg();
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), m.payload());
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void shouldDeliverEveryMessageInOrderToAClientThatDoesNotReadWhilePushesArrive(Transport transport)
            throws Exception {
        assumeTrue(transport != Transport.IO_URING || IoUring.isAvailable(), "io_uring is not available here");
        assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "epoll is not available here");
        gw.config.transport = transport;
        int count = 160;
        int size = 64 * 1024; // 10 MiB in all: more than the kernel buffers, so the channel becomes unwritable
        gw.config.windowMessages = 1024;
        gw.config.maxQueuedMessagesPerClient = 1024;
        gw.config.maxQueuedBytesPerClient = 16L * 1024 * 1024;
        gw.start();
        SwbTestClient c = gw.connectWithReceiveBuffer(4096);
        c.hello("slow");
        int heldBack = 0;
        for (int i = 1; i <= count; i++) {
            byte[] payload = new byte[size];
            java.util.Arrays.fill(payload, (byte) i);
            ApiClient.Response r = gw.api().post("/v1/clients/slow/messages", payload);
            assertEquals(200, r.status(), r.body());
            assertEquals(i, r.json().get("seq").asLong());
            heldBack += r.json().get("delivered").asBoolean() ? 0 : 1;
        }
        assertTrue(heldBack > 0, "the test needs the server's socket to fill up");
        for (int i = 1; i <= count; i++) {
            SwbTestClient.Msg m = c.readMsg();
            assertEquals(i, m.seq());
            assertEquals(size, m.payload().length);
            for (byte b : m.payload()) {
                if (b != (byte) i) {
                    assertEquals((byte) i, b, "payload of message " + i);
                }
            }
        }
        c.sync();
    }

    @Test
    void shouldRefusePushWhenTheClientQueueBytesWouldExceedTheLimit() throws Exception {
        gw.config.maxPayloadBytes = 16;
        gw.config.maxQueuedBytesPerClient = 40;
        gw.start();
        assertEquals(200, gw.api().post("/v1/clients/bytes/messages?ttl=60", "x".repeat(16)).status());
        assertEquals(200, gw.api().post("/v1/clients/bytes/messages?ttl=60", "x".repeat(16)).status());
        assertEquals(429, gw.api().post("/v1/clients/bytes/messages?ttl=60", "x".repeat(16)).status());
        assertEquals(200, gw.api().post("/v1/clients/bytes/messages?ttl=60", "x".repeat(8)).status(),
                "exactly the byte limit still fits");
        assertEquals(40, gw.clientInfo("bytes").get("queued_bytes").asLong());
    }

    /**
     * {@code clockMoveMs}: 1, a millisecond later (the old session assigned fewer than a thousand seqs a
     * millisecond); -1,000, the wall clock stepped back a second (NTP), or equally a session that assigned its seqs
     * faster than the clock origin allows for: the new session must still number above the old one's.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, -1_000})
    void shouldDeliverRetainedMessagePushedAfterTheSessionWasForgottenToAClientResumingFromAnOlderSeq(long clockMoveMs)
            throws Exception {
        gw.config.seqOriginFromClock = true; // the default outside tests
        gw.start();
        SwbTestClient first = gw.hello("returning");
        long last = 0;
        for (int i = 1; i <= 5; i++) {
            gw.push("returning", "old" + i);
        }
        for (int i = 1; i <= 5; i++) {
            long seq = first.readMsg().seq();
            assertTrue(seq > last, "seq increases");
            last = seq;
        }
        first.ack(last);
        first.leave();
        GatewayFixture.await(() -> gw.server().registry().size() == 0, "the session with nothing retained is gone");
        gw.clock.advanceMs(clockMoveMs);

        ApiClient.Response r = gw.api().post("/v1/clients/returning/messages?ttl=60", "important");
        assertEquals(200, r.status(), r.body());
        long newSeq = r.json().get("seq").asLong();
        assertTrue(newSeq > last, "a new session numbers above the old one: " + newSeq + " > " + last);

        SwbTestClient second = gw.connect();
        // As SWB/1 says: reconnect with resume=<highest seq received>, which is from the old session.
        assertEquals("WELCOME returning v=1 hb=60 seq=" + newSeq, second.hello("returning", "resume=" + last));
        SwbTestClient.Msg m = second.readMsg();
        assertEquals(newSeq, m.seq());
        assertEquals("important", m.text());
    }

    @Test
    void aClientWhoseSessionEndedBeforeItGotAnythingSeesAnotherSeqWhenItResumes() throws Exception {
        gw.config.seqOriginFromClock = true;
        gw.start();
        SwbTestClient first = gw.connect();
        String welcome = first.hello("quiet");
        long origin = Long.parseLong(welcome.substring(welcome.indexOf("seq=") + 4));
        first.send("SUB news");
        first.expectLine("OK SUB news");
        first.leave();
        GatewayFixture.await(() -> gw.server().registry().size() == 0, "the session with nothing kept is gone");

        // The same millisecond (the clock did not move): the new session must not number from the same seq, or
        // the client, resuming from it, takes its subscription to 'news' as kept (SWB/1: subscribe again when
        // WELCOME's seq is not what it resumed from).
        SwbTestClient second = gw.connect();
        String again = second.hello("quiet", "resume=" + origin);
        assertTrue(!again.endsWith("seq=" + origin), again);
    }

    @Test
    void shouldStartNewSessionsFromTheClockSoWelcomeSeqIsNeverBelowAnEarlierSession() throws Exception {
        gw.config.seqOriginFromClock = true;
        gw.start();
        SwbTestClient c = gw.connect();
        assertEquals("WELCOME fresh v=1 hb=60 seq=" + gw.clock.nowMs() * 1000, c.hello("fresh"));
    }
}
