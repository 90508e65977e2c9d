package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.metrics.Refusal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fair share: a client's frames count against its budget (--client-rate a second, --client-burst saved); over it,
 * the client is not read until the next second, and after --client-rate-grace seconds in a row it is closed. Time
 * is the fixture's manual clock: the budget refills only when a test moves it.
 */
@Timeout(60)
class GatewayFairShareTest {
    private final GatewayFixture gw = new GatewayFixture();

    @BeforeEach
    void budget() {
        gw.config.clientRate = 100;
        gw.config.clientBurst = 200;
        gw.config.clientRateGraceSec = 3;
    }

    @AfterEach
    void close() {
        gw.close();
    }

    private static byte[] pings(int n) {
        return "PING\n".repeat(n).getBytes(StandardCharsets.US_ASCII);
    }

    /** Retains a message (one byte) on each of {@code prefix + from} .. {@code prefix + (from + count - 1)}. */
    private void retainTopics(String prefix, int from, int count) {
        for (int i = from; i < from + count; i++) {
            gw.server().registry().retained().retain(prefix + i, new byte[] {1});
        }
    }

    /** Reads what comes until {@code ms} pass without a packet; returns how many were of {@code type}. */
    private static int countUntilSilent(MqttTestClient m, int type, int ms) throws java.io.IOException {
        int n = 0;
        m.readTimeout(ms);
        try {
            for (MqttTestClient.Packet p = m.read(); ; p = m.read()) {
                n += p.type() == type ? 1 : 0;
            }
        } catch (java.net.SocketTimeoutException silent) {
            return n;
        }
    }

    private static void expectPongs(SwbTestClient c, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            assertEquals("PONG", c.readLine(), "PONG " + (i + 1) + " of " + n);
        }
    }

    @Test
    void aFloodingClientIsThrottledThenClosedWhileOthersGoOn() throws Exception {
        gw.start();
        SwbTestClient quiet = gw.hello("quiet");
        SwbTestClient flood = gw.hello("flood");
        flood.sendRaw(pings(3000));
        expectPongs(flood, 200); // the burst
        assertTrue(flood.silentFor(300), "the 201st PING waits for the next second");
        assertEquals(200, gw.push("quiet", "still here").status());
        assertEquals("still here", quiet.readMsg().text());
        quiet.sync();
        assertEquals(1, gw.server().metrics().refusals(Refusal.THROTTLED, "swb"));

        gw.advanceSec(1);
        expectPongs(flood, 100); // one second's worth
        assertTrue(flood.silentFor(300));
        gw.advanceSec(1);
        expectPongs(flood, 100);
        assertTrue(flood.silentFor(300));
        gw.advanceSec(1); // the third second in a row over budget: the frame that spends it closes instead
        expectPongs(flood, 99);
        assertTrue(flood.readLine().startsWith("BYE 429 more than 100 frames a second for 3 s"));
        gw.assertRefusals("throttled_closed", 1);
        quiet.sync();
    }

    @Test
    void aClientFloodingAcksIsClosedCleanlyAndAnotherThrottledOneOnTheSameLoopGoesOn() throws Exception {
        gw.config.eventLoops = 1;
        gw.start();
        SwbTestClient flood = gw.hello("acker");
        SwbTestClient other = gw.hello("pinger");
        flood.sendRaw("ACK 1\n".repeat(3000).getBytes(StandardCharsets.US_ASCII));
        GatewayFixture.await(() -> gw.server().metrics().refusals(Refusal.THROTTLED, "swb") == 1, "throttled");
        gw.advanceSec(1);
        gw.advanceSec(1);
        other.sendRaw(pings(250));
        expectPongs(other, 200); // its burst; the rest waits for the next second, as the flood's ACKs do
        gw.advanceSec(1); // the flood's third second over budget: the ACK that spends it closes instead
        assertTrue(flood.readLine().startsWith("BYE 429 more than 100 frames a second for 3 s"));
        expectPongs(other, 50); // resumed in the same tick
        assertEquals(0, gw.server().metrics().loopErrors.sum(), "no unexpected error on the loop");
    }

    @Test
    void aSendWhosePayloadArrivesInManyReadsCountsOnce() throws Exception {
        gw.config.clientRate = 10;
        gw.config.clientBurst = 20;
        gw.start();
        SwbTestClient c = gw.hello("uploader");
        c.sendRaw("SEND s1 1000\n".getBytes(StandardCharsets.US_ASCII));
        byte[] piece = "x".repeat(10).getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 100; i++) {
            c.sendRaw(piece);
            Thread.sleep(2); // each piece its own read, mostly
        }
        c.sendRaw("\n".getBytes(StandardCharsets.US_ASCII));
        String answer = c.readLine();
        assertTrue(answer.startsWith("SENT s1") || answer.startsWith("NACK s1"), answer);
        gw.assertRefusals("throttled", 0);
    }

    @Test
    void aClientWithinItsBudgetIsNeverThrottled() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("steady");
        for (int second = 0; second < 5; second++) {
            c.sendRaw(pings(100)); // exactly the rate, every second
            expectPongs(c, 100);
            gw.advanceSec(1);
        }
        c.sync();
        gw.assertRefusals("throttled", 0);
    }

    @Test
    void theBudgetStaysWithTheSessionAcrossAReconnect() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("device");
        first.sendRaw(pings(200));
        expectPongs(first, 200);
        SwbTestClient again = gw.hello("device"); // takes the session over within the same second
        again.sendRaw(pings(10));
        assertEquals("PONG", again.readLine(), "the frame that finds the budget spent is still answered");
        assertTrue(again.silentFor(300), "but no more until the next second");
        gw.advanceSec(1);
        expectPongs(again, 9);
    }

    @Test
    void mqttPacketsAndWebSocketPingsCountToo() throws Exception {
        gw.config.mqttPort = 0;
        gw.config.wsPort = 0;
        gw.start();
        MqttTestClient mqtt = MqttTestClient.open(gw.server().mqttPort(), 4);
        assertEquals(0, mqtt.connect("meter", true));
        for (int i = 0; i < 300; i++) {
            mqtt.pingreq();
        }
        for (int i = 0; i < 200; i++) {
            mqtt.expect(MqttTestClient.PINGRESP);
        }
        GatewayFixture.await(() -> gw.server().metrics().refusals(Refusal.THROTTLED, "mqtt") == 1, "mqtt throttled");

        WsTestClient ws = WsTestClient.open(gw.server().wsPort(), "/swb");
        SwbTestClient browser = SwbTestClient.over(ws);
        browser.hello("tab");
        for (int i = 0; i < 250; i++) {
            ws.sendFrame(0x80 | WsTestClient.OP_PING, new byte[0], true);
        }
        GatewayFixture.await(() -> gw.server().metrics().refusals(Refusal.THROTTLED, "swb-ws") == 1,
                "WebSocket pings count against the budget");
        mqtt.close();
        ws.close();
    }

    @Test
    void aWebSocketCloseThatWaitsBehindTheBudgetStopsDeliveriesAtOnce() throws Exception {
        // The close waits for the frames before it (read once the budget refills), but the client is leaving:
        // a push written meanwhile was reported delivered to a browser that drops messages once it closes.
        gw.config.clientRate = 1;
        gw.config.clientBurst = 1;
        gw.config.wsPort = 0;
        gw.start();
        WsTestClient ws = WsTestClient.open(gw.server().wsPort(), "/swb");
        SwbTestClient browser = SwbTestClient.over(ws);
        browser.hello("tab");
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.write(WsTestClient.frame(0x80 | WsTestClient.OP_BINARY, "PING\nPING\n".getBytes(), true));
        b.write(WsTestClient.frame(0x80 | WsTestClient.OP_CLOSE, new byte[] {0x03, (byte) 0xE8}, true)); // 1000
        ws.socket().getOutputStream().write(b.toByteArray()); // one read: the second PING and the close wait
        GatewayFixture.await(() -> gw.server().metrics().refusals(Refusal.THROTTLED, "swb-ws") == 1, "throttled");
        ApiClient.Response r = gw.api().post("/v1/clients/tab/messages", "too late");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.body().contains("\"delivered\":false"), r.body());
        gw.advanceSec(1); // the second PING is read (and spends that second's budget)
        assertEquals("PONG\n", new String(ws.readFrame().payload()), "the first PING's");
        assertEquals("PONG\n", new String(ws.readFrame().payload()), "the second's: nothing pushed before it");
        gw.advanceSec(1); // reading goes on: the close comes next
        assertEquals(1000, ws.readClose().closeCode(), "the client's close, echoed");
        ws.close();
    }

    @Test
    void emptyWebSocketFramesCountAndPingsBeforeTheHelloAreBounded() throws Exception {
        gw.config.wsPort = 0;
        gw.start();
        WsTestClient ws = WsTestClient.open(gw.server().wsPort(), "/swb");
        SwbTestClient browser = SwbTestClient.over(ws);
        browser.hello("tab");
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 250; i++) {
            b.write(WsTestClient.frame(0x80 | WsTestClient.OP_BINARY, new byte[0], true)); // carries nothing
        }
        ws.socket().getOutputStream().write(b.toByteArray());
        GatewayFixture.await(() -> gw.server().metrics().refusals(Refusal.THROTTLED, "swb-ws") == 1,
                "empty data frames count against the budget");

        WsTestClient early = WsTestClient.open(gw.server().wsPort(), "/swb");
        java.io.ByteArrayOutputStream pings = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 1000; i++) {
            pings.write(WsTestClient.frame(0x80 | WsTestClient.OP_PING, new byte[0], true));
        }
        early.socket().getOutputStream().write(pings.toByteArray()); // no HELLO: no session, no budget yet
        assertEquals(1013, early.readClose().closeCode(), "closed: try again later");
        assertEquals(1, gw.server().metrics().refusals(Refusal.THROTTLED_CLOSED, "swb-ws"));
        ws.close();
        early.close();
    }

    @Test
    void aSubscribeThatMakesTheServerLookThroughManyRetainedTopicsCostsFramesOfTheBudget() throws Exception {
        // '+/zz' matches nothing here, but every retained topic is looked at: one such SUBSCRIBE a frame, a client
        // could make its loop look at 100,000 topics 2,000 times a second.
        gw.config.mqttPort = 0;
        gw.start();
        retainTopics("sensors/s", 0, 20_000);
        MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4);
        assertEquals(0, m.connect("scanner", true));
        for (int id = 1; id <= 20; id++) {
            m.subscribe(id, "+/zz", 0);
        }
        m.expect(MqttTestClient.SUBACK); // looked through 20,000 topics: more than the 200 frames saved up
        GatewayFixture.await(() -> gw.server().metrics().refusals(Refusal.THROTTLED, "mqtt") == 1,
                "throttled after the first looks");
        m.close();
    }

    @Test
    void aClientWhoseSubscribesLookThroughManyRetainedTopicsIsSlowedNotClosed() throws Exception {
        // The look is charged as a debt the next seconds pay back (the client not read meanwhile), not as frames
        // over the budget: a client subscribing one filter at a time to a large store was closed with 429 after
        // the grace, again at every reconnect.
        gw.config.clientRate = 10;
        gw.config.clientBurst = 20;
        gw.config.clientRateGraceSec = 3;
        gw.config.mqttPort = 0;
        gw.start();
        retainTopics("sensors/s", 0, 3_000); // a look through all of them: 11 frames
        MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4);
        assertEquals(0, m.connect("paho", true));
        for (int id = 1; id <= 6; id++) {
            m.subscribe(id, "+/x" + id, 0);
        }
        for (int id = 1; id <= 6; id++) {
            MqttTestClient.Packet ack = null;
            for (int sec = 0; sec < 10 && ack == null; sec++) {
                try {
                    m.readTimeout(200);
                    ack = m.expect(MqttTestClient.SUBACK);
                } catch (java.net.SocketTimeoutException slowed) {
                    gw.advanceSec(1);
                }
            }
            assertTrue(ack != null, "SUBACK " + id + " came, in time");
            assertEquals(id, ack.body()[1]);
        }
        assertEquals(0, gw.server().metrics().refusals(Refusal.THROTTLED_CLOSED, "mqtt"), "slowed, not closed");
        m.close();
    }

    @Test
    void aClientLeftUnreadWhileItPaysBackItsDebtIsNotClosedAsIdle() throws Exception {
        // Its PINGREQs wait unread while its SUBSCRIBEs' looks are paid back: the server is the one not reading.
        gw.config.clientRate = 10;
        gw.config.clientBurst = 20;
        gw.config.idleGraceSec = 0;
        gw.config.heartbeatMinSec = 1;
        gw.config.mqttPort = 0;
        gw.start();
        retainTopics("sensors/s", 0, 3_000);
        MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4);
        m.sendConnect("slow", true, 2, null, null, 0); // keep-alive 2 s: idle after 4 s unread
        assertEquals(MqttTestClient.CONNACK, m.read().type());
        for (int id = 1; id <= 8; id++) {
            m.subscribe(id, "+/x" + id, 0); // ~2 s of debt each
            m.pingreq();
        }
        int subacks = 0;
        for (int sec = 0; sec < 40 && subacks < 8; sec++) {
            subacks += countUntilSilent(m, MqttTestClient.SUBACK, 200);
            gw.advanceSec(1); // slowed: the next second's budget
        }
        assertEquals(8, subacks, "every SUBSCRIBE answered, in time");
        assertEquals(0, gw.server().metrics().refusals(Refusal.IDLE_TIMEOUT, "mqtt"), "not closed as idle");
        m.close();
    }

    @Test
    void aSubscribeLooksThroughAtMostItsBurstOfRetainedTopicsAndCountsTheRestSkipped() throws Exception {
        gw.config.clientRate = 1;
        gw.config.clientBurst = 1; // 256 topics looked at, at most, per SUBSCRIBE
        gw.config.mqttPort = 0;
        gw.start();
        retainTopics("s/", 1000, 300);
        MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4);
        assertEquals(0, m.connect("all", true));
        m.subscribe(1, "#", 0);
        m.expect(MqttTestClient.SUBACK);
        assertEquals(256, countUntilSilent(m, MqttTestClient.PUBLISH, 500));
        gw.assertRefusals("topic_queue_full", 1);
        m.close();
    }

    @Test
    void aClientWhoseFramesSpendItsBudgetEverySecondIsClosedAfterTheGraceThoughALookPutsItInDebt() throws Exception {
        // The SUBSCRIBE that spent the last frame also charged its look: the budget below 0 at the second's end
        // was taken for a debt only, and the grace never counted: at its cap every second, never closed.
        gw.config.mqttPort = 0;
        gw.start(); // 100 frames a second, 200 saved, closed after 3 seconds over
        retainTopics("s/", 0, 300); // a look through them: 1 frame
        MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4);
        assertEquals(0, m.connect("capped", true));
        boolean closed = false;
        for (int sec = 0; sec < 8 && !closed; sec++) {
            java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < (sec == 0 ? 199 : 98); i++) { // the budget but one: the SUBSCRIBE spends the last
                b.write(new byte[] {(byte) 0xC0, 0});
            }
            b.write(new byte[] {(byte) 0x82, 8, 0, (byte) (sec + 1), 0, 3, '+', '/', 'x', 0});
            try {
                m.sendRaw(b.toByteArray());
                for (MqttTestClient.Packet p = m.read(); p.type() != MqttTestClient.SUBACK; p = m.read()) {
                    // its PINGRESPs
                }
                gw.advanceSec(1);
            } catch (java.io.IOException gone) {
                closed = true;
            }
        }
        GatewayFixture.await(() -> gw.server().metrics().refusals(Refusal.THROTTLED_CLOSED, "mqtt") == 1,
                "closed after the grace");
        m.close();
    }
}
