package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.metrics.Refusal;
import io.switchboard.mqtt.PublishProperties;
import io.switchboard.mqtt.UserProperty;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * MQTT retained messages (from clients and the API), will messages, session expiry and v5 message properties (payload
 * format, message expiry, content type, response topic, correlation data, user properties), over real sockets.
 */
@Timeout(60)
class GatewayMqttRetainWillTest {
    private static final int V311 = 4;
    private static final int V5 = 5;
    private static final PublishProperties REQUEST = new PublishProperties(1, 600, "application/json",
            "replies/dev-7", new byte[] {0, 1, 2, (byte) 0xFF},
            List.of(new UserProperty("a", "1"), new UserProperty("b", "2"), new UserProperty("a", "3")));
    private final GatewayFixture gw = new GatewayFixture();
    private final List<MqttTestClient> clients = new ArrayList<>();

    @BeforeEach
    void listenForMqtt() {
        gw.config.mqttPort = 0;
    }

    @AfterEach
    void close() {
        clients.forEach(MqttTestClient::close);
        gw.close();
    }

    private MqttTestClient connected(String id, int version) throws Exception {
        MqttTestClient c = MqttTestClient.open(gw.server().mqttPort(), version);
        clients.add(c);
        assertEquals(0, c.connect(id, true));
        return c;
    }

    @Test
    void aRetainedMessageReachesLaterSubscribersUntilDeleted() throws Exception {
        gw.start();
        MqttTestClient sensor = connected("sensor", V311);
        sensor.publishRetained("sensors/hall/temp", "22.5", 1, 1);
        sensor.expect(MqttTestClient.PUBACK);

        MqttTestClient later = connected("dashboard", V5);
        assertEquals(0, later.subscribeAndWait(1, "sensors/+/temp", 0));
        MqttTestClient.Pub p = later.readPublish();
        assertEquals("sensors/hall/temp", p.topic());
        assertEquals("22.5", p.text());
        assertTrue(p.retain(), "a retained message is sent with the retain flag");

        sensor.publishRetained("sensors/hall/temp", "23.0", 0, 0); // replaces it; delivered live to dashboard
        MqttTestClient.Pub live = later.readPublish();
        assertEquals("23.0", live.text());
        assertTrue(!live.retain(), "a live delivery to an existing subscription carries no retain flag");
        sensor.publishRetained("sensors/hall/temp", "", 0, 0); // deletes it
        later.readPublish();

        MqttTestClient third = connected("third", V311);
        assertEquals(0, third.subscribeAndWait(1, "sensors/#", 0));
        third.expectSilence(300);
    }

    @Test
    void aQos2ResendDoesNotRetainItsPayloadAgainOverOneRetainedSince() throws Exception {
        gw.start();
        MqttTestClient lamp = connected("lamp", V5);
        lamp.publish("lamp/state", "on", 2, 7, false, true);
        lamp.expect(MqttTestClient.PUBREC); // its PUBREC lost, say: the client sends it again later
        MqttTestClient other = connected("switch", V5);
        other.publishRetained("lamp/state", "off", 0, 0);
        other.pingreq();
        other.expect(MqttTestClient.PINGRESP);
        lamp.publish("lamp/state", "on", 2, 7, true, true); // the resend, DUP
        lamp.expect(MqttTestClient.PUBREC);
        MqttTestClient late = connected("late", V5);
        assertEquals(0, late.subscribeAndWait(1, "lamp/#", 0));
        assertEquals("off", late.readPublish().text(), "the message retained since stays: the resend was not new");
    }

    @Test
    void theApiRetainsTooAndTheStoreIsBounded() throws Exception {
        gw.config.maxRetained = 1;
        gw.start();
        assertEquals(200, gw.api().post("/v1/topics/config%2Flevel/messages?retain=true", "7").status());
        MqttTestClient c = connected("reader", V5);
        assertEquals(0, c.subscribeAndWait(1, "config/level", 0));
        assertEquals("7", c.readPublish().text());

        ApiClient.Response full = gw.api().post("/v1/topics/config%2Fother/messages?retain=true", "8");
        assertEquals(507, full.status(), full.body());
        assertTrue(full.body().contains("--max-retained"), full.body());
        assertEquals(200, gw.api().post("/v1/topics/config%2Flevel/messages?retain=true", "9").status(),
                "replacing an existing topic's message needs no room");
        c.readPublish();

        MqttTestClient v5 = connected("publisher", V5);
        v5.publishRetained("config/third", "x", 1, 5);
        MqttTestClient.Packet ack = v5.expect(MqttTestClient.PUBACK);
        assertEquals(0x97, ack.body()[2] & 0xFF, "v5: quota exceeded");
        assertEquals(2, gw.server().metrics().refusals(Refusal.RETAINED_FULL));

        // 3.1.1 cannot be told: its PUBACK says delivered, so the message is delivered (and would go upstream), not
        // retained.
        assertEquals(0, c.subscribeAndWait(2, "config/+", 0));
        c.readPublish(); // the retained config/level
        MqttTestClient v311 = connected("old-publisher", V311);
        v311.publishRetained("config/fourth", "y", 1, 6);
        v311.expect(MqttTestClient.PUBACK);
        MqttTestClient.Pub live = c.readPublish();
        assertEquals("config/fourth", live.topic());
        assertEquals("y", live.text());
        assertEquals(3, gw.server().metrics().refusals(Refusal.RETAINED_FULL));
        MqttTestClient late = connected("late-reader", V5);
        assertEquals(0, late.subscribeAndWait(1, "config/fourth", 0));
        late.expectSilence(300); // not retained
    }

    @Test
    void oneSubscribeNamingAFilterManyTimesGetsTheRetainedMessagesOnce() throws Exception {
        gw.start();
        gw.api().post("/v1/topics/status/messages?retain=true", "up");
        MqttTestClient c = connected("many", V311);
        String[] filters = new String[500];
        java.util.Arrays.fill(filters, "#");
        c.subscribe(1, 0, filters);
        c.expect(MqttTestClient.SUBACK);
        assertEquals("up", c.readPublish().text());
        c.expectSilence(300);
    }

    @Test
    void aRetainedMessageLargerThanTheV5ClientsMaximumPacketSizeIsNotSent() throws Exception {
        gw.start();
        gw.api().post("/v1/topics/big/messages?retain=true", "x".repeat(2000));
        gw.api().post("/v1/topics/small/messages?retain=true", "y".repeat(10));
        MqttTestClient c = MqttTestClient.open(gw.server().mqttPort(), 5);
        clients.add(c);
        c.sendConnect("tiny", true, 60, null, null, 0, -1, 1024); // Maximum Packet Size 1,024
        assertEquals(0, c.connack().body()[1]);
        assertEquals(0, c.subscribeAndWait(1, "#", 0));
        MqttTestClient.Pub p = c.readPublish();
        assertEquals("small", p.topic(), "MQTT 5 forbids sending a packet over the client's maximum");
        c.expectSilence(300);
        assertTrue(gw.api().get("/v1/stats").body().contains("\"topic_queue_full\":1"),
                gw.api().get("/v1/stats").body());
    }

    @Test
    void theRetainedMessagesOneSubscribeSendsAreBoundedByMaxQueuedBytes() throws Exception {
        gw.config.maxPayloadBytes = 1000;
        gw.config.maxQueuedBytesPerClient = 1000;
        gw.start();
        for (String t : List.of("a", "b", "c")) {
            gw.api().post("/v1/topics/" + t + "/messages?retain=true", "x".repeat(600));
        }
        MqttTestClient c = connected("bounded", V311);
        assertEquals(0, c.subscribeAndWait(1, "#", 0));
        assertEquals(600, c.readPublish().payload().length);
        c.expectSilence(300); // 1,200 bytes would exceed the 1,000 allowed: the other two are skipped
        assertTrue(gw.api().get("/v1/stats").body().contains("\"topic_queue_full\":2"),
                gw.api().get("/v1/stats").body());
    }

    @Test
    void theRetainedMessagesOneSubscribeSendsCountTheirPropertiesAgainstMaxQueuedBytes() throws Exception {
        gw.config.maxPayloadBytes = 4000;
        gw.config.maxQueuedBytesPerClient = 4000;
        gw.start();
        MqttTestClient publisher = connected("padder", V5);
        var padded = PublishProperties.user(List.of(new UserProperty("pad", "x".repeat(1500))));
        for (int i = 1; i <= 5; i++) {
            publisher.publish("pads/" + i, "p", 1, i, true, padded); // a 1-byte payload, about 1,500 bytes in all
            publisher.expect(MqttTestClient.PUBACK);
        }
        MqttTestClient c = connected("bounded", V5);
        assertEquals(0, c.subscribeAndWait(1, "pads/#", 0));
        c.readPublish();
        c.readPublish();
        c.expectSilence(300); // a third would make about 4,500 bytes of the 4,000 allowed
        gw.assertRefusals("topic_queue_full", 3);
    }

    @Test
    void retainHandlingTwoSendsNoneAndOneOnlyForANewSubscription() throws Exception {
        gw.start();
        gw.api().post("/v1/topics/status/messages?retain=true", "up");
        MqttTestClient c = connected("opts", V5);
        assertEquals(0, c.subscribeAndWait(1, "status", 2 << 4)); // retain handling 2
        c.expectSilence(300);
        c.unsubscribe(2, "status");
        c.expect(MqttTestClient.UNSUBACK);
        assertEquals(0, c.subscribeAndWait(3, "status", 1 << 4)); // retain handling 1, new subscription
        assertEquals("up", c.readPublish().text());
        assertEquals(0, c.subscribeAndWait(4, "status", 1 << 4)); // the same again: not new
        c.expectSilence(300);
    }

    @Test
    void aWillIsPublishedWhenTheConnectionDropsAndNotAfterANormalDisconnect() throws Exception {
        gw.start();
        MqttTestClient watcher = connected("watcher", V311);
        assertEquals(0, watcher.subscribeAndWait(1, "devices/+/status", 0));

        MqttTestClient dropped = MqttTestClient.open(gw.server().mqttPort(), V311);
        assertEquals(0, dropped.connectWithWill("dev1", "devices/dev1/status", "offline", true, 0));
        dropped.close(); // no DISCONNECT
        MqttTestClient.Pub will = watcher.readPublish();
        assertEquals("devices/dev1/status", will.topic());
        assertEquals("offline", will.text());

        MqttTestClient polite = MqttTestClient.open(gw.server().mqttPort(), V311);
        assertEquals(0, polite.connectWithWill("dev2", "devices/dev2/status", "offline", false, 0));
        polite.disconnect();
        polite.expectEof();
        watcher.expectSilence(300);

        MqttTestClient late = connected("late", V311);
        assertEquals(0, late.subscribeAndWait(1, "devices/#", 0));
        MqttTestClient.Pub retained = late.readPublish();
        assertEquals("devices/dev1/status", retained.topic(), "the will was retained");
        assertTrue(retained.retain());
    }

    @Test
    void v5DisconnectWithWillPublishesItAndAWillDelayWaitsForAReconnect() throws Exception {
        gw.start();
        MqttTestClient watcher = connected("watcher", V5);
        assertEquals(0, watcher.subscribeAndWait(1, "w/#", 0));

        MqttTestClient leaving = MqttTestClient.open(gw.server().mqttPort(), V5);
        assertEquals(0, leaving.connectWithWill("leaver", "w/leaver", "gone", false, 0));
        leaving.sendRaw(new byte[] {(byte) 0xE0, 1, 0x04}); // DISCONNECT, reason "with will message"
        assertEquals("gone", watcher.readPublish().text());

        MqttTestClient delayed = MqttTestClient.open(gw.server().mqttPort(), V5);
        assertEquals(0, delayed.connectWithWill("slow", "w/slow", "late", false, 1, true, 60));
        delayed.close();
        watcher.expectSilence(300); // not before its delay
        assertEquals("late", watcher.readPublish().text(), "after the 1 s delay");
    }

    @Test
    void aV5DisconnectWithAnErrorReasonPublishesTheWillAsADropDoes() throws Exception {
        gw.start();
        MqttTestClient watcher = connected("watcher", V5);
        assertEquals(0, watcher.subscribeAndWait(1, "w/#", 0));
        MqttTestClient failing = MqttTestClient.open(gw.server().mqttPort(), V5);
        clients.add(failing);
        assertEquals(0, failing.connectWithWill("failing", "w/failing", "gone", false, 0));
        failing.sendRaw(new byte[] {(byte) 0xE0, 1, (byte) 0x80}); // DISCONNECT, reason "unspecified error"
        assertEquals("gone", watcher.readPublish().text(), "only a normal DISCONNECT (0x00) discards the will");
    }

    @Test
    void aSessionConnectedLongerThanItsExpiryIsKeptThatLongAfterItsConnectionEnds() throws Exception {
        gw.start();
        MqttTestClient first = reconnect("long", V5, 10);
        first.connack();
        assertEquals(0, first.subscribeAndWait(1, "news/#", 0));
        gw.advanceSec(15); // connected past its 10 s expiry
        first.pingreq();
        first.expect(MqttTestClient.PINGRESP);
        MqttTestClient second = reconnect("long", V5, 10); // takes the live connection over
        assertTrue(MqttTestClient.sessionPresent(second.connack()), "taken over, the session goes on");
        assertEquals(1, gw.api().post("/v1/topics/news%2Fa/messages", "one").json().get("delivered").asInt());
        assertEquals("one", second.readPublish().text(), "with its subscription");
        gw.advanceSec(15);
        second.close(); // dropped, 15 s after it connected
        gw.awaitOffline("long");
        gw.advanceSec(5);
        MqttTestClient third = reconnect("long", V5, 10);
        assertTrue(MqttTestClient.sessionPresent(third.connack()), "kept 10 s from the drop, not from the connect");
        assertEquals(1, gw.api().post("/v1/topics/news%2Fb/messages", "two").json().get("delivered").asInt());
        assertEquals("two", third.readPublish().text());
    }

    @Test
    void aSessionIsPresentOnlyWhenItWasKeptForAnEarlierConnectionOfTheClient() throws Exception {
        gw.config.mqttMaxSessionExpirySec = 10;
        gw.start();
        // Made by a push, never connected: its message comes, but there was no session (no subscriptions) to resume.
        assertEquals(200, gw.api().post("/v1/clients/fresh/messages?ttl=3600", "hello").status());
        MqttTestClient fresh = reconnect("fresh", V311, -1);
        assertFalse(MqttTestClient.sessionPresent(fresh.connack()), "no earlier session: the client must subscribe");
        MqttTestClient.Pub hello = fresh.readPublish();
        assertEquals("hello", hello.text());
        fresh.puback(hello.packetId());
        fresh.disconnect();
        fresh.expectEof();

        // A publish-only device: no subscriptions, nothing stored, but its session was kept.
        MqttTestClient quiet = reconnect("quiet", V5, 3600);
        quiet.connack();
        quiet.disconnect();
        quiet.expectEof();
        MqttTestClient quietAgain = reconnect("quiet", V5, 3600);
        assertTrue(MqttTestClient.sessionPresent(quietAgain.connack()), "kept, though it holds nothing");

        // Its expiry passed while a stored message kept it: present no more, and its subscription went with it.
        MqttTestClient dev = reconnect("dev", V311, -1);
        dev.connack();
        assertEquals(0, dev.subscribeAndWait(1, "sensors/#", 0));
        dev.close();
        gw.awaitOffline("dev");
        assertEquals(200, gw.api().post("/v1/clients/dev/messages?ttl=3600", "stored").status());
        gw.advanceSec(6);
        gw.advanceSec(6);
        MqttTestClient back = reconnect("dev", V311, -1);
        assertFalse(MqttTestClient.sessionPresent(back.connack()), "the session expired: the client must subscribe");
        assertEquals("stored", back.readPublish().text(), "the stored message still comes");
        assertEquals(0, gw.api().post("/v1/topics/sensors%2Fa/messages", "x").json().get("delivered").asInt(),
                "no subscription of the expired session is left");
    }

    @Test
    void delayedWillsCountAgainstTheQueuedTotalAndPastItArePublishedAtOnce() throws Exception {
        gw.config.maxPayloadBytes = 4000;
        gw.config.maxQueuedBytesPerClient = 4000;
        // One waiting will (3,000 bytes, its 7-byte topic and a message's 64) fits, a second (3,072) does not; its
        // delivery to the watcher (3,064 queued a moment) still does.
        gw.config.maxQueuedTotalBytes = 6140;
        gw.start();
        MqttTestClient watcher = connected("watcher", V5);
        assertEquals(0, watcher.subscribeAndWait(1, "w/#", 0));
        String big = "x".repeat(3000);
        MqttTestClient first = MqttTestClient.open(gw.server().mqttPort(), V5);
        assertEquals(0, first.connectWithWill("first", "w/first", big, false, 3600, true, 3600));
        first.close();
        watcher.expectSilence(300); // waits its delay, holding 3,071 bytes of the 6,140
        GatewayFixture.await(() -> queuedBytes() == 3071, "the waiting will is counted");

        MqttTestClient second = MqttTestClient.open(gw.server().mqttPort(), V5);
        assertEquals(0, second.connectWithWill("second", "w/second", big, false, 3600, true, 3600));
        second.close();
        assertEquals("w/second", watcher.readPublish().topic(), "past the budget: published now, not kept");
        gw.assertRefusals("queued_total", 1);

        MqttTestClient back = MqttTestClient.open(gw.server().mqttPort(), V5);
        clients.add(back);
        back.sendConnect("first", false, 60, null, null, 0, 3600); // the same session: its will is void
        assertEquals(0, back.connack().body()[1]);
        GatewayFixture.await(() -> queuedBytes() == 0, "the void will's bytes are given back");
        MqttTestClient third = MqttTestClient.open(gw.server().mqttPort(), V5);
        assertEquals(0, third.connectWithWill("third", "w/third", big, false, 3600, true, 3600));
        third.close();
        watcher.expectSilence(300); // fits again: waits its delay
    }

    private long queuedBytes() {
        try {
            return gw.stats().get("queued_bytes").asLong();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aDelayedWillIsPublishedAtOnceWhenTheSessionEndsWithTheConnection() throws Exception {
        gw.start();
        MqttTestClient watcher = connected("watcher", V5);
        assertEquals(0, watcher.subscribeAndWait(1, "w/#", 0));
        MqttTestClient brief = MqttTestClient.open(gw.server().mqttPort(), V5);
        assertEquals(0, brief.connectWithWill("brief", "w/brief", "gone", false, 3600, true, 0)); // expiry 0
        brief.close();
        assertEquals("gone", watcher.readPublish().text(), "the session ended: the will does not wait an hour");
    }

    @Test
    void aDelayedWillIsPublishedWhenTheClientComesBackToANewSession() throws Exception {
        MqttTestClient watcher = watcherAndDroppedWithWill("dev", 3600);
        watcher.expectSilence(300); // waiting out its delay
        connected("dev", V5); // Clean Start: the earlier session ended
        assertEquals("gone", watcher.readPublish().text());
    }

    @Test
    void aDelayedWillIsPublishedWhenTheClientComesBackToANewSessionOverWebSocket() throws Exception {
        gw.config.wsPort = 0;
        MqttTestClient watcher = watcherAndDroppedWithWill("dev", 3600); // left over TCP
        watcher.expectSilence(300);
        WsTestClient ws = WsTestClient.open(gw.server().wsPort(), "/mqtt", "Sec-WebSocket-Protocol: mqtt");
        MqttTestClient back = MqttTestClient.over(ws, V5);
        clients.add(back);
        assertEquals(0, back.connect("dev", true)); // Clean Start over WebSocket: the session the will waits for ended
        assertEquals("gone", watcher.readPublish().text(), "not an hour later, nor never");
    }

    @Test
    void aDelayedWillIsVoidOnceItsSessionResumesEvenIfTheClientDropsAgainWithoutOne() throws Exception {
        MqttTestClient watcher = watcherAndDroppedWithWill("dev", WILL_DELAY_SEC);
        MqttTestClient back = reconnect("dev", V5, 3600); // the same session, no will this time
        assertEquals(0, back.connack().body()[1] & 0xFF);
        back.close();
        watcher.expectSilence((WILL_DELAY_SEC + 1) * 1000); // past the first connection's delay
    }

    @Test
    void aDelayedWillIsPublishedWhenACleanStartConnectionTakesTheSessionOver() throws Exception {
        MqttTestClient watcher = watcherAndConnectedWithWill("dev", 3600);
        connected("dev", V5); // Clean Start: the session the will belongs to ends
        takenOver.close(); // as a client does when told 0x8E (session taken over)
        assertEquals("gone", watcher.readPublish().text(), "not an hour later");
    }

    @Test
    void aDelayedWillIsPublishedWhenTheClientComesBackWithCleanStartWhileTheServerStillLingersOnItsOldConnection()
            throws Exception {
        MqttTestClient watcher = watcherAndConnectedWithWill("dev", 5);
        takenOver.sendRaw(new byte[] {0x00, 0x00}); // packet type 0: malformed; the server ends the connection...
        assertEquals(0x81, takenOver.readDisconnect()); // ...and lingers until this side closes (it does not)
        connected("dev", V5); // Clean Start: the session the will waits for ended
        assertEquals("gone", watcher.readPublish().text(), "published now, not voided later");
    }

    @Test
    void aDelayedWillIsPublishedAtOnceWhenItsSessionEndsWithTheConnection() throws Exception {
        gw.config.maxOfflineSessions = 0; // no session is kept offline: it ends as its connection does
        gw.config.mqttMaxSessionExpirySec = 3600;
        gw.start();
        MqttTestClient watcher = connected("watcher", V5);
        assertEquals(0, watcher.subscribeAndWait(1, "w/#", 0));
        MqttTestClient first = MqttTestClient.open(gw.server().mqttPort(), V5);
        assertEquals(0, first.connectWithWill("dev", "w/dev", "gone", false, 3600, true, 3600));
        first.close();
        assertEquals("gone", watcher.readPublish().text(), "the session ended: its will is due, not an hour later");
    }

    @Test
    void aDelayedWillIsVoidWhenAConnectionTakesTheSessionOverAndContinuesIt() throws Exception {
        MqttTestClient watcher = watcherAndConnectedWithWill("dev", WILL_DELAY_SEC);
        assertEquals(0, reconnect("dev", V5, 3600).connack().body()[1] & 0xFF);
        takenOver.close();
        watcher.expectSilence((WILL_DELAY_SEC + 1) * 1000); // past the first connection's delay
    }

    /**
     * A will delay that must not run out before the test's reconnect is done (real time: a reconnect on a loaded
     * 2-core machine has taken over 2 s), and that the test then waits out.
     */
    private static final int WILL_DELAY_SEC = 5;

    /** The connection {@link #watcherAndConnectedWithWill} opened. */
    private MqttTestClient takenOver;

    /**
     * Starts the gateway, subscribes a watcher to {@code w/#}, and connects {@code id} (session expiry an hour) with
     * a will on {@code w/id} delayed {@code willDelaySec}; that connection ({@link #takenOver}) stays open.
     */
    private MqttTestClient watcherAndConnectedWithWill(String id, int willDelaySec) throws Exception {
        gw.config.mqttMaxSessionExpirySec = 3600;
        gw.start();
        MqttTestClient watcher = connected("watcher", V5);
        assertEquals(0, watcher.subscribeAndWait(1, "w/#", 0));
        takenOver = MqttTestClient.open(gw.server().mqttPort(), V5);
        clients.add(takenOver);
        assertEquals(0, takenOver.connectWithWill(id, "w/" + id, "gone", false, willDelaySec, true, 3600));
        return watcher;
    }

    /**
     * Starts the gateway, subscribes a watcher to {@code w/#}, and connects {@code id} (session expiry an hour) with
     * a will on {@code w/id} delayed {@code willDelaySec}, then drops it and waits until the server saw the drop.
     */
    private MqttTestClient watcherAndDroppedWithWill(String id, int willDelaySec) throws Exception {
        gw.config.mqttMaxSessionExpirySec = 3600;
        gw.start();
        MqttTestClient watcher = connected("watcher", V5);
        assertEquals(0, watcher.subscribeAndWait(1, "w/#", 0));
        MqttTestClient first = MqttTestClient.open(gw.server().mqttPort(), V5);
        assertEquals(0, first.connectWithWill(id, "w/" + id, "gone", false, willDelaySec, true, 3600));
        first.close();
        gw.awaitOffline(id);
        return watcher;
    }

    private MqttTestClient reconnect(String id, int version, long expirySec) throws Exception {
        MqttTestClient c = MqttTestClient.open(gw.server().mqttPort(), version);
        clients.add(c);
        c.sendConnect(id, false, 60, null, null, 0, expirySec);
        return c;
    }

    @Test
    void aPersistentSessionKeepsItsSubscriptionsWithNothingStoredUntilItExpires() throws Exception {
        gw.config.mqttMaxSessionExpirySec = 3600;
        gw.start();
        // 3.1.1, clean session 0: the session (and its subscription) outlives the connection.
        MqttTestClient first = reconnect("keeper", V311, -1);
        first.connack();
        assertEquals(0, first.subscribeAndWait(1, "news/#", 0));
        first.disconnect();
        first.expectEof();
        MqttTestClient back = reconnect("keeper", V311, -1);
        assertTrue(MqttTestClient.sessionPresent(back.connack()), "the session was kept");
        assertEquals(1, gw.api().post("/v1/topics/news%2Fdaily/messages", "kept").json().get("delivered").asInt());
        assertEquals("kept", back.readPublish().text(), "without subscribing again");

        // v5 without a Session Expiry Interval: the session ends with the connection.
        MqttTestClient brief = reconnect("brief", V5, -1);
        brief.connack();
        assertEquals(0, brief.subscribeAndWait(1, "news/#", 0));
        brief.disconnect();
        brief.expectEof();
        MqttTestClient again = reconnect("brief", V5, -1);
        assertTrue(!MqttTestClient.sessionPresent(again.connack()), "expiry 0: nothing kept");

        // v5 with 60 s: kept, then gone once the clock passed it (the offline sweep runs every few seconds).
        MqttTestClient timed = reconnect("timed", V5, 60);
        timed.connack();
        assertEquals(0, timed.subscribeAndWait(1, "news/#", 0));
        timed.disconnect();
        timed.expectEof();
        gw.advanceSec(30);
        gw.advanceSec(5);
        assertEquals(200, gw.api().get("/v1/clients/timed").status(), "kept within its expiry");
        gw.advanceSec(40);
        gw.advanceSec(5);
        assertEquals(404, gw.api().get("/v1/clients/timed").status(), "gone after it");
    }

    /** A v5 PUBLISH QoS 0 on {@code topic} (may be empty) with a Topic Alias property. */
    private static byte[] publishWithAlias(String topic, int alias, String payload) {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        byte[] t = topic.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        body.write(t.length >> 8);
        body.write(t.length);
        body.writeBytes(t);
        body.writeBytes(new byte[] {3, 0x23, 0, (byte) alias}); // properties: topic alias
        body.writeBytes(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        byte[] b = body.toByteArray();
        java.io.ByteArrayOutputStream p = new java.io.ByteArrayOutputStream();
        p.write(0x30);
        p.write(b.length);
        p.writeBytes(b);
        return p.toByteArray();
    }

    @Test
    void v5TopicAliasesAreSetThenUsedAndAnUnknownOneCloses() throws Exception {
        gw.start();
        MqttTestClient reader = connected("reader", V311);
        assertEquals(0, reader.subscribeAndWait(1, "plant/line1/temp", 0));
        MqttTestClient v5 = connected("aliaser", V5);
        v5.sendRaw(publishWithAlias("plant/line1/temp", 3, "20"));
        v5.sendRaw(publishWithAlias("", 3, "21")); // the alias alone
        assertEquals("20", reader.readPublish().text());
        MqttTestClient.Pub second = reader.readPublish();
        assertEquals("plant/line1/temp", second.topic());
        assertEquals("21", second.text());

        v5.sendRaw(publishWithAlias("", 9, "x")); // never set
        assertEquals(0x82, v5.readDisconnect(), "protocol error");
        MqttTestClient big = connected("big", V5);
        big.sendRaw(publishWithAlias("a/b", 200, "x")); // above the maximum told in CONNACK
        assertEquals(0x94, big.readDisconnect(), "topic alias invalid");
    }

    // ---- MQTT 5 message properties (3.3.2.3), from publisher to subscriber and in retained messages

    private static void assertSameProperties(PublishProperties expected, long expirySec, PublishProperties got) {
        assertEquals(expected.payloadFormat(), got.payloadFormat(), "payload format indicator");
        assertEquals(expirySec, got.messageExpirySec(), "message expiry interval");
        assertEquals(expected.contentType(), got.contentType(), "content type");
        assertEquals(expected.responseTopic(), got.responseTopic(), "response topic");
        assertArrayEquals(expected.correlationData(), got.correlationData(), "correlation data");
        assertEquals(expected.userProperties(), got.userProperties(), "user properties, in order");
    }

    @Test
    void everyMessagePropertyReachesAV5SubscriberUnalteredAndItsExpiryCountsDown() throws Exception {
        gw.start();
        MqttTestClient service = connected("service", V5);
        assertEquals(0, service.subscribeAndWait(1, "requests/#", 0));
        MqttTestClient old = connected("old", V311);
        assertEquals(0, old.subscribeAndWait(1, "requests/#", 0));
        MqttTestClient device = connected("dev-7", V5);

        device.publish("requests/dev-7", "{}", 1, 1, false, REQUEST);
        device.expect(MqttTestClient.PUBACK);
        MqttTestClient.Packet p = service.expect(MqttTestClient.PUBLISH);
        assertEquals("{}", service.publishOf(p).text());
        assertSameProperties(REQUEST, 600, service.propertiesOf(p));
        assertEquals("{}", old.readPublish().text(), "a 3.1.1 subscriber gets the payload (its PUBLISH has none)");

        // Without properties: none made up.
        device.publish("requests/dev-7", "x", 0, 0);
        assertTrue(service.propertiesOf(service.expect(MqttTestClient.PUBLISH)).isEmpty());

        // Retained: kept with its properties; a later subscriber is told what is left of its expiry.
        device.publish("requests/last", "r", 1, 2, true, REQUEST);
        device.expect(MqttTestClient.PUBACK);
        service.expect(MqttTestClient.PUBLISH);
        old.readPublish();
        gw.advanceSec(100);
        MqttTestClient later = connected("later", V5);
        assertEquals(0, later.subscribeAndWait(1, "requests/last", 0));
        MqttTestClient.Packet r = later.expect(MqttTestClient.PUBLISH);
        assertTrue(later.publishOf(r).retain());
        assertSameProperties(REQUEST, 500, later.propertiesOf(r));
    }

    @Test
    void aRetainedMessageIsNotSentOnceItsExpiryPassedAndFreesItsPlace() throws Exception {
        gw.config.maxRetained = 2;
        gw.start();
        MqttTestClient sensor = connected("sensor", V5);
        sensor.publish("status/a", "short", 1, 1, true, PublishProperties.NONE.withMessageExpiry(10));
        sensor.expect(MqttTestClient.PUBACK);
        sensor.publish("status/b", "long", 1, 2, true, PublishProperties.NONE.withMessageExpiry(1000));
        sensor.expect(MqttTestClient.PUBACK);
        sensor.publish("status/c", "no room", 1, 3, true, PublishProperties.NONE);
        assertEquals(0x97, reasonOf(sensor.expect(MqttTestClient.PUBACK)), "two retained: full");

        gw.advanceSec(9);
        MqttTestClient before = connected("before", V5);
        assertEquals(0, before.subscribeAndWait(1, "status/+", 0));
        List<String> got = new ArrayList<>(List.of(before.readPublish().text(), before.readPublish().text()));
        got.sort(null);
        assertEquals(List.of("long", "short"), got, "both retained messages before the first expired");

        gw.advanceSec(1);
        MqttTestClient after = connected("after", V5);
        assertEquals(0, after.subscribeAndWait(1, "status/+", 0));
        MqttTestClient.Packet p = after.expect(MqttTestClient.PUBLISH);
        assertEquals("long", after.publishOf(p).text(), "the expired one is not sent");
        assertEquals(990, after.propertiesOf(p).messageExpirySec());
        after.expectSilence(200);

        sensor.publish("status/c", "room now", 1, 4, true, PublishProperties.NONE);
        assertEquals(0, reasonOf(sensor.expect(MqttTestClient.PUBACK)), "the expired one's place is free");
    }

    /** The reason code of a v5 PUBACK (0 in its short form). */
    private static int reasonOf(MqttTestClient.Packet puback) {
        return puback.body().length > 2 ? puback.body()[2] & 0xFF : 0;
    }
}
