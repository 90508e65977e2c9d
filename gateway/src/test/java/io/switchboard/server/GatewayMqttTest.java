package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** MQTT 3.1.1 and 5 clients on the same session core as SWB/1, over real sockets. */
@Timeout(60)
class GatewayMqttTest {
    private static final int V311 = 4;
    private static final int V5 = 5;
    private final GatewayFixture gw = new GatewayFixture();
    private final java.util.List<MqttTestClient> mqtt = new java.util.ArrayList<>();

    @BeforeEach
    void listenForMqtt() {
        gw.config.mqttPort = 0;
    }

    @AfterEach
    void close() {
        mqtt.forEach(MqttTestClient::close);
        gw.close();
    }

    private MqttTestClient open(int version) throws Exception {
        MqttTestClient c = MqttTestClient.open(gw.server().mqttPort(), version);
        mqtt.add(c);
        return c;
    }

    private MqttTestClient connected(String id, int version, boolean clean) throws Exception {
        MqttTestClient c = open(version);
        assertEquals(0, c.connect(id, clean), "CONNACK accepted");
        return c;
    }

    /** An SWB/1 client subscribed to "alarms". */
    private SwbTestClient readerOfAlarms() throws Exception {
        SwbTestClient swb = gw.hello("reader");
        swb.send("SUB alarms");
        swb.expectLine("OK SUB alarms");
        return swb;
    }

    private JsonNode push(String client, String payload, int ttl) throws Exception {
        ApiClient.Response r = gw.api().post("/v1/clients/" + client + "/messages?ttl=" + ttl, payload);
        assertEquals(200, r.status(), r.body());
        return r.json();
    }

    @Test
    void aPushIsAPublishOnThePushTopicQos0WithoutTtlAndQos1WithOne() throws Exception {
        gw.start();
        for (int version : new int[] {V311, V5}) {
            String id = "dev-" + version;
            MqttTestClient c = connected(id, version, true);
            push(id, "live", 0);
            MqttTestClient.Pub live = c.readPublish();
            assertEquals("push/" + id, live.topic());
            assertEquals(0, live.qos());
            assertEquals("live", live.text());

            long seq = push(id, "kept", 3600).get("seq").asLong();
            MqttTestClient.Pub kept = c.readPublish();
            assertEquals(1, kept.qos());
            assertEquals("kept", kept.text());
            assertTrue(kept.packetId() > 0);
            JsonNode info = gw.api().get("/v1/clients/" + id).json();
            assertEquals("mqtt", info.get("protocol").asText(), info.toString());
            assertEquals(1, info.get("in_flight").asInt(), "the QoS 1 message waits for its PUBACK: " + info);

            c.puback(kept.packetId());
            c.pingreq();
            c.expect(MqttTestClient.PINGRESP);
            info = gw.api().get("/v1/clients/" + id).json();
            assertEquals(seq, info.get("acked").asLong(), info.toString());
            assertEquals(0, info.get("queued").asInt(), info.toString());
        }
    }

    @Test
    void storedPushesWaitForAPersistentSessionAndComeOnceAcknowledged() throws Exception {
        gw.start();
        push("meter", "one", 3600);
        push("meter", "two", 3600);
        MqttTestClient c = connected("meter", V311, false);
        MqttTestClient.Pub one = c.readPublish();
        MqttTestClient.Pub two = c.readPublish();
        assertEquals("one", one.text());
        assertEquals("two", two.text());
        c.puback(one.packetId()); // two stays unacknowledged
        c.pingreq();
        c.expect(MqttTestClient.PINGRESP);
        c.close();

        MqttTestClient again = open(V311);
        again.sendConnect("meter", false, 60, null, null, 0);
        MqttTestClient.Packet connack = again.connack();
        assertTrue(MqttTestClient.sessionPresent(connack), "the session with its message was kept");
        MqttTestClient.Pub resent = again.readPublish();
        assertEquals("two", resent.text(), "only the unacknowledged one is sent again");
        assertTrue(resent.dup(), "marked as sent before");
        assertEquals(two.packetId(), resent.packetId(), "with the packet id it had");
        assertTrue(!one.dup() && !two.dup());
        again.puback(resent.packetId());
        again.pingreq();
        again.expect(MqttTestClient.PINGRESP);
    }

    @Test
    void aMessageAcknowledgedOutOfOrderLeavesTheEarlierOneToBeSentAgain() throws Exception {
        gw.start();
        push("meter", "one", 3600);
        push("meter", "two", 3600);
        push("meter", "three", 3600);
        MqttTestClient c = connected("meter", V311, false);
        MqttTestClient.Pub one = c.readPublish();
        MqttTestClient.Pub two = c.readPublish();
        MqttTestClient.Pub three = c.readPublish();
        assertEquals("three", three.text());
        // A client acknowledging by hand, out of order (MQTT asks for order; Paho's manual acks allow this), then
        // gone before it handled "one".
        c.puback(two.packetId());
        c.puback(three.packetId());
        c.pingreq();
        c.expect(MqttTestClient.PINGRESP);
        JsonNode info = gw.api().get("/v1/clients/meter").json();
        assertEquals(3, info.get("queued").asInt(), "nothing counts acknowledged before \"one\": " + info);
        c.close();

        MqttTestClient again = connected("meter", V311, false);
        MqttTestClient.Pub resent = again.readPublish();
        assertEquals("one", resent.text(), "the one not acknowledged is sent again");
        assertEquals(one.packetId(), resent.packetId());
        again.puback(resent.packetId());
        // "two" and "three" were acknowledged, but the queue is cumulative: they come again too (at least once).
        assertEquals("two", again.readPublish().text());
        assertEquals("three", again.readPublish().text());
    }

    @Test
    void qos0PushesFlowWithoutAcknowledgementsBeyondTheWindow() throws Exception {
        gw.config.windowMessages = 4;
        gw.start();
        MqttTestClient c = connected("fast", V311, true);
        for (int i = 0; i < 20; i++) {
            push("fast", "m" + i, 0);
        }
        for (int i = 0; i < 20; i++) {
            assertEquals("m" + i, c.readPublish().text());
        }
        assertEquals(0, gw.api().get("/v1/clients/fast").json().get("queued").asInt());
    }

    @Test
    void aReceiveMaximumHoldsQos1MessagesUntilAcknowledged() throws Exception {
        gw.start();
        MqttTestClient c = open(V5);
        c.sendConnect("slow", true, 60, null, null, 2);
        assertEquals(0, c.connack().body()[1]);
        for (int i = 0; i < 3; i++) {
            push("slow", "m" + i, 3600);
        }
        MqttTestClient.Pub first = c.readPublish();
        c.readPublish();
        c.expectSilence(300);
        c.puback(first.packetId());
        assertEquals("m2", c.readPublish().text(), "the third one once the first is acknowledged");
    }

    @Test
    void aMessageThatExpiredInFlightStillCountsAgainstTheReceiveMaximumUntilAcknowledged() throws Exception {
        gw.start();
        MqttTestClient c = open(V5);
        c.sendConnect("slow", true, 60, null, null, 2);
        assertEquals(0, c.connack().body()[1]);
        push("slow", "a", 3600);
        push("slow", "b", 1);
        push("slow", "c", 3600);
        push("slow", "d", 3600);
        MqttTestClient.Pub a = c.readPublish();
        MqttTestClient.Pub b = c.readPublish();
        assertEquals("b", b.text());
        gw.advanceSec(2); // b expires while the client holds it
        c.puback(a.packetId());
        assertEquals("c", c.readPublish().text());
        c.expectSilence(300); // b and c in flight: the Receive Maximum of 2
        c.puback(b.packetId());
        assertEquals("d", c.readPublish().text(), "once b is acknowledged");
    }

    @Test
    void aStoredPushLargerThanTheClientsMaximumPacketSizeIsNotSentAndDoesNotBlockTheNextOnes() throws Exception {
        gw.start();
        push("small", "x".repeat(500), 60); // kept while the client is away: no limit known yet
        MqttTestClient c = open(V5);
        c.sendConnect("small", false, 60, null, null, 0, 60, 200);
        assertEquals(0, c.connack().body()[1] & 0xFF);
        // Its PUBLISH would be over 200 bytes, and nothing else is in flight.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (gw.clientInfo("small").get("queued").asInt() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, gw.clientInfo("small").get("queued").asInt(), "not sent, and not holding the window");
        push("small", "fits", 60);
        MqttTestClient.Pub p = c.readPublish();
        assertEquals("fits", p.text(), "the one too large was not sent");
        gw.assertRefusals("payload_too_large", 1);
    }

    @Test
    void theStoredPushAfterOneTooLargeIsSentAtOnceWithAWindowOfOne() throws Exception {
        gw.start();
        push("tiny", "x".repeat(500), 60);
        push("tiny", "fits", 60); // both kept while the client is away
        MqttTestClient c = open(V5);
        c.sendConnect("tiny", false, 60, null, null, 1, 60, 200); // Receive Maximum 1, Maximum Packet Size 200
        assertEquals(0, c.connack().body()[1] & 0xFF);
        c.readTimeout(2000);
        assertEquals("fits", c.readPublish().text(), "written and flushed once the one too large was passed over, "
                + "the client sending nothing meanwhile");
    }

    @Test
    void aPushLargerThanTheConnectedClientsMaximumPacketSizeIsRefused413() throws Exception {
        gw.start();
        MqttTestClient c = open(V5);
        c.sendConnect("small", true, 60, null, null, 0, -1, 200);
        assertEquals(0, c.connack().body()[1] & 0xFF);
        for (int ttl : new int[] {60, 0}) {
            ApiClient.Response r = gw.api().post("/v1/clients/small/messages?ttl=" + ttl, "x".repeat(500));
            assertEquals(413, r.status(), "ttl " + ttl + ": " + r.body());
            assertTrue(r.body().contains("Maximum Packet Size"), r.body());
        }
        assertEquals(0, gw.clientInfo("small").get("queued").asInt(), "nothing kept");
        push("small", "fits", 60);
        assertEquals("fits", c.readPublish().text());
        c.expectSilence(300);
        gw.assertRefusals("payload_too_large", 2);
    }

    @Test
    void moreUnreleasedQos2MessagesThanTheReceiveMaximumCloseTheConnection() throws Exception {
        gw.config.windowMessages = 2;
        gw.start();
        for (int version : new int[] {V5, V311}) {
            MqttTestClient c = connected("hoarder-" + version, version, true);
            for (int id = 1; id <= 2; id++) {
                c.publish("t/x", "m" + id, 2, id); // never released
                c.expect(MqttTestClient.PUBREC);
            }
            c.publish("t/x", "m3", 2, 3); // each would be kept until its PUBREL
            if (version == V5) {
                assertEquals(0x93, c.readDisconnect(), "receive maximum exceeded");
            } else {
                c.expectEof(); // 3.1.1 is told nothing (real clients keep 10-20 in flight): closed all the same
            }
        }
    }

    @Test
    void aPublishOnATopicMqttAllowsButTheServerDoesNotIsRefusedAndTheConnectionStays() throws Exception {
        gw.start();
        SwbTestClient reader = gw.hello("reader");
        // 3.1.1 cannot refuse; closing would make it send it again for ever
        MqttTestClient[] clients = publishRefused("spaces5", "spaces311", false, "home/living room/temp", 0x90);
        MqttTestClient v5 = clients[0];
        MqttTestClient v3 = clients[1];
        v3.publish("home/living room/temp", "21", 0, 0);
        for (MqttTestClient c : java.util.List.of(v5, v3)) {
            c.pingreq();
            c.expect(MqttTestClient.PINGRESP); // still connected
        }
        gw.assertRefusals("malformed_frame", 3);
        reader.sync(); // the SWB/1 client is untouched
    }

    @Test
    void aKeepAliveOfZeroIsTheLongestHeartbeatTheServerAllows() throws Exception {
        gw.config.heartbeatMinSec = 1; // the shortest: a keep-alive of 0 used to get it, closed after 2 s silent
        gw.config.heartbeatMaxSec = 60;
        gw.config.idleGraceSec = 0;
        gw.start();
        MqttTestClient v3 = open(V311);
        v3.sendConnect("nokeepalive311", true, 0, null, null, 0);
        assertEquals(0, v3.connack().body()[1]);
        MqttTestClient v5 = open(V5);
        v5.sendConnect("nokeepalive5", true, 0, null, null, 0);
        MqttTestClient.Packet connack = v5.connack();
        assertEquals(0, connack.body()[1]);
        assertTrue(containsServerKeepAlive(connack.body(), 60), "v5 is told --hb-max as the server keep-alive");
        v3.expectSilence(3_500); // a 3.1.1 client cannot be told: it sends nothing, and is not closed
        v3.pingreq();
        v3.expect(MqttTestClient.PINGRESP);
        gw.assertRefusals("idle_timeout", 0);
    }

    private static boolean containsServerKeepAlive(byte[] connackBody, int sec) {
        for (int i = 2; i + 2 < connackBody.length; i++) {
            if (connackBody[i] == 0x13 && ((connackBody[i + 1] & 0xFF) << 8 | (connackBody[i + 2] & 0xFF)) == sec) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aPushToAPersistentSessionJustPastItsExpiryLeavesNoOfflineSessionCounted() throws Exception {
        gw.config.mqttMaxSessionExpirySec = 10;
        gw.start();
        MqttTestClient c = connected("persist", V311, false);
        c.close();
        GatewayFixture.await(() -> offlineRetained() == 1, "kept offline for its expiry");
        gw.clock.advanceSec(11); // past its expiry, before a sweep collects it
        assertEquals(404, gw.push("persist", "late").status());
        GatewayFixture.await(() -> offlineRetained() == 0, "ended by the push, and no longer counted");
    }

    private long offlineRetained() {
        try {
            return gw.stats().get("sessions_offline_retained").asLong();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aV5SubscriptionWithNoLocalDoesNotGetTheClientsOwnMessages() throws Exception {
        gw.start();
        MqttTestClient me = connected("me", V5, true);
        MqttTestClient other = connected("other", V5, true);
        int noLocal = 0x04; // subscription options: QoS 0, No Local
        assertEquals(0, me.subscribeAndWait(1, "chat/#", noLocal));
        assertEquals(0, other.subscribeAndWait(1, "chat/#", noLocal));
        me.publish("chat/room", "from me", 0, 0);
        assertEquals("from me", other.readPublish().text(), "others get it");
        me.expectSilence(300);
        other.publish("chat/room", "from other", 0, 0);
        assertEquals("from other", me.readPublish().text(), "only the client's own messages are left out");
        assertEquals(0, me.subscribeAndWait(2, "chat/#", 0)); // subscribing again replaces the options
        me.publish("chat/room", "echo", 0, 0);
        assertEquals("echo", me.readPublish().text());
    }

    /**
     * A v5 client ({@code v5Id}, clean start) and a 3.1.1 one ({@code v3Id}) each publish at QoS 1 on {@code topic},
     * which the server refuses: v5 gets a PUBACK with {@code v5Reason}, 3.1.1 (which has no refusal) a positive
     * PUBACK. Returns the two clients, v5 first.
     */
    private MqttTestClient[] publishRefused(String v5Id, String v3Id, boolean v3Clean, String topic, int v5Reason)
            throws Exception {
        MqttTestClient v5 = connected(v5Id, V5, true);
        v5.publish(topic, "payload", 1, 3);
        MqttTestClient.Packet ack = v5.expect(MqttTestClient.PUBACK);
        assertEquals(v5Reason, ack.body()[2] & 0xFF, "v5's reason code");
        MqttTestClient v3 = connected(v3Id, V311, v3Clean);
        v3.publish(topic, "payload", 1, 4);
        v3.expect(MqttTestClient.PUBACK);
        return new MqttTestClient[] {v5, v3};
    }

    @Test
    void aClientCannotPublishOnAnotherClientsPushTopic() throws Exception {
        gw.start();
        MqttTestClient victim = connected("dev-1", V5, true);
        assertEquals(1, victim.subscribeAndWait(1, "push/dev-1", 1));
        // v5: not authorized; 3.1.1 cannot refuse: a positive PUBACK, and nothing delivered
        publishRefused("mallory", "mallory3", true, "push/dev-1", 0x87);
        victim.expectSilence(300);
        assertEquals(200, gw.push("dev-1", "from the backend").status());
        assertEquals("from the backend", victim.readPublish().text());
    }

    @Test
    void wildcardSubscribersGetTopicPushesFromTheApiAndPublishesFromSwbAndMqttClients() throws Exception {
        gw.start();
        MqttTestClient sub = connected("watcher", V5, true);
        assertEquals(0, sub.subscribeAndWait(1, "sensors/+/temp", 1),
                "granted QoS 0, the QoS topic messages are delivered at, though 1 was asked");
        assertEquals(0, sub.subscribeAndWait(2, "news", 0));

        ApiClient.Response r = gw.api().post("/v1/topics/sensors%2Fkitchen%2Ftemp/messages", "21.5");
        assertEquals(1, r.json().get("delivered").asInt(), r.body());
        MqttTestClient.Pub p = sub.readPublish();
        assertEquals("sensors/kitchen/temp", p.topic());
        assertEquals("21.5", p.text());

        SwbTestClient swb = gw.hello("swb-reader");
        swb.send("SUB news");
        swb.expectLine("OK SUB news");
        MqttTestClient pub = connected("publisher", V311, true);
        pub.publish("news", "extra", 1, 7);
        MqttTestClient.Packet ack = pub.expect(MqttTestClient.PUBACK);
        assertEquals(7, ack.body()[1]);
        assertEquals("extra", swb.readMsg().text(), "an SWB/1 subscriber gets an MQTT client's publish");
        assertEquals("extra", sub.readPublish().text());

        sub.unsubscribe(3, "news");
        sub.expect(MqttTestClient.UNSUBACK);
        pub.publish("news", "again", 0, 0);
        assertEquals("again", swb.readMsg().text());
        sub.expectSilence(300);
    }

    @Test
    void aQos2PublishIsDeliveredOnceEvenWhenSentAgain() throws Exception {
        gw.start();
        SwbTestClient swb = readerOfAlarms();
        MqttTestClient pub = connected("alarm", V5, true);
        pub.publish("alarms", "fire", 2, 9);
        pub.expect(MqttTestClient.PUBREC);
        pub.publish("alarms", "fire", 2, 9, true); // the PUBREC "got lost": sent again with DUP
        pub.expect(MqttTestClient.PUBREC);
        pub.pubrel(9);
        MqttTestClient.Packet comp = pub.expect(MqttTestClient.PUBCOMP);
        assertEquals(9, comp.body()[1]);
        assertEquals("fire", swb.readMsg().text());
        swb.sync(); // nothing else pending: delivered once
    }

    @Test
    void aQos2PublishSentAgainAfterAReconnectToTheSameSessionIsDeliveredOnce() throws Exception {
        gw.start();
        SwbTestClient swb = readerOfAlarms();
        MqttTestClient pub = connected("alarm", V311, false); // a persistent session
        pub.publish("alarms", "fire", 2, 9);
        pub.expect(MqttTestClient.PUBREC);
        pub.close(); // dropped before the PUBREC reached the client
        gw.awaitOffline("alarm");
        MqttTestClient again = connected("alarm", V311, false);
        again.publish("alarms", "fire", 2, 9, true); // sent again with DUP, as MQTT asks
        again.expect(MqttTestClient.PUBREC);
        again.pubrel(9);
        again.expect(MqttTestClient.PUBCOMP);
        assertEquals("fire", swb.readMsg().text());
        swb.sync(); // nothing else pending: delivered once
        again.publish("alarms", "smoke", 2, 9); // the id, released, is free again
        again.expect(MqttTestClient.PUBREC);
        assertEquals("smoke", swb.readMsg().text());
    }

    @Test
    void aNewQos2PublishOnAnIdTheSessionsLastConnectionLeftUnreleasedIsDelivered() throws Exception {
        gw.start();
        SwbTestClient swb = readerOfAlarms();
        MqttTestClient pub = connected("alarm", V311, false); // a persistent session
        pub.publish("alarms", "fire", 2, 9);
        pub.expect(MqttTestClient.PUBREC);
        pub.close();
        gw.awaitOffline("alarm");
        assertEquals("fire", swb.readMsg().text());
        MqttTestClient again = connected("alarm", V311, false);
        // Without DUP it is no resend: a new message (the client had that exchange behind it), not to be lost.
        again.publish("alarms", "smoke", 2, 9);
        again.expect(MqttTestClient.PUBREC);
        assertEquals("smoke", swb.readMsg().text());
        again.publish("alarms", "smoke", 2, 9, true); // and now a resend of that one: not delivered again
        again.expect(MqttTestClient.PUBREC);
        again.pubrel(9);
        again.expect(MqttTestClient.PUBCOMP);
        swb.sync(); // nothing else pending
    }

    @Test
    void aQos2PublishSentAgainByANewConnectionThatTookTheSessionOverIsDeliveredOnce() throws Exception {
        gw.start();
        SwbTestClient swb = readerOfAlarms();
        MqttTestClient first = connected("alarm", V311, false); // a persistent session
        first.publish("alarms", "fire", 2, 9);
        first.expect(MqttTestClient.PUBREC);
        assertEquals("fire", swb.readMsg().text());
        // The client comes back while the server still holds its old connection (never closed here).
        MqttTestClient again = connected("alarm", V311, false);
        again.publish("alarms", "fire", 2, 9, true); // no PUBREC reached it: sent again with DUP
        again.expect(MqttTestClient.PUBREC);
        again.pubrel(9);
        again.expect(MqttTestClient.PUBCOMP);
        swb.sync(); // nothing else pending: delivered once
        first.close();
    }

    @Test
    void qos2IdsAreKeptAlsoWhenTheServerClosesTheConnection() throws Exception {
        gw.start();
        MqttTestClient pub = connected("alarm", V311, false); // a persistent session, keep-alive 60 s
        pub.publish("alarms", "fire", 2, 9);
        pub.expect(MqttTestClient.PUBREC);
        gw.advanceSec(60);
        gw.advanceSec(60);
        gw.advanceSec(20); // past two keep-alives and the grace without a packet: the server closes it
        pub.expectEof();
        SwbTestClient swb = readerOfAlarms(); // subscribes only now: it sees what the resend delivers
        MqttTestClient again = connected("alarm", V311, false);
        resendFireThenPublishSmoke(again, swb);
    }

    /**
     * On {@code again}, the QoS 2 "fire" (id 9) sent again with DUP, released, then a new "smoke" (id 10): the
     * reader of alarms must get "smoke" first, the resend not delivered a second time.
     */
    private static void resendFireThenPublishSmoke(MqttTestClient again, SwbTestClient swb) throws Exception {
        again.publish("alarms", "fire", 2, 9, true); // sent again with DUP: delivered before, not again
        again.expect(MqttTestClient.PUBREC);
        again.pubrel(9);
        again.expect(MqttTestClient.PUBCOMP);
        again.publish("alarms", "smoke", 2, 10);
        again.expect(MqttTestClient.PUBREC);
        assertEquals("smoke", swb.readMsg().text(), "the resent one was not delivered a second time");
    }

    @Test
    void qos2IdsAreKeptWhenTheServerClosesAV5ConnectionWhoseSocketLingers() throws Exception {
        gw.start();
        MqttTestClient pub = open(V5);
        pub.sendConnect("alarm5", false, 60, null, null, 0, 600); // session expiry 10 min
        assertEquals(0, pub.connack().body()[1]);
        pub.publish("alarms", "fire", 2, 9);
        pub.expect(MqttTestClient.PUBREC);
        gw.advanceSec(60);
        gw.advanceSec(60);
        gw.advanceSec(20); // the server closes it: DISCONNECT 0x8D, then it waits for the client to close
        assertEquals(0x8D, pub.readDisconnect());
        SwbTestClient swb = readerOfAlarms();
        MqttTestClient again = open(V5); // back before the old socket closed
        again.sendConnect("alarm5", false, 60, null, null, 0, 600);
        assertEquals(0, again.connack().body()[1]);
        resendFireThenPublishSmoke(again, swb);
    }

    @Test
    void aV311KeepAliveAboveHbMaxIsHonouredForItCannotBeToldAnother() throws Exception {
        gw.config.heartbeatMaxSec = 60;
        gw.start();
        MqttTestClient sleepy = open(V311);
        sleepy.sendConnect("sleepy", true, 300, null, null, 0); // pings every 5 minutes
        assertEquals(0, sleepy.connack().body()[1]);
        gw.advanceSec(100);
        gw.advanceSec(100); // past 2 x --hb-max + the grace, within its own keep-alive
        sleepy.pingreq();
        sleepy.expect(MqttTestClient.PINGRESP);
        gw.advanceSec(300);
        gw.advanceSec(320); // past 2 x its keep-alive + the grace without a packet
        sleepy.expectEof();
    }

    @Test
    void aSecondConnectionWithTheSameIdTakesTheSessionOver() throws Exception {
        gw.start();
        MqttTestClient old5 = connected("twin", V5, true);
        MqttTestClient new5 = connected("twin", V5, true);
        assertEquals(0x8E, old5.readDisconnect(), "session taken over");
        old5.expectEof();
        MqttTestClient old3 = connected("twin3", V311, true);
        connected("twin3", V311, true);
        old3.expectEof(); // 3.1.1 has no server DISCONNECT: just closed
        push("twin", "to the new one", 0);
        assertEquals("to the new one", new5.readPublish().text());
    }

    @Test
    void refusalsAreConnackReasonCodes() throws Exception {
        gw.start();
        MqttTestClient wrongFirst = open(V311);
        wrongFirst.pingreq();
        wrongFirst.expectEof();

        MqttTestClient future = open(V311);
        future.sendRaw(new byte[] {0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 9, 2, 0, 60, 0, 0});
        assertEquals(1, future.connack().body()[1], "unacceptable protocol version (3.1.1's code)");
        future.expectEof();

        MqttTestClient badId = open(V5);
        badId.sendConnect("not valid!", true, 60, null, null, 0);
        assertEquals(0x85, badId.connack().body()[1] & 0xFF, "client identifier not valid");
        badId.expectEof();

        MqttTestClient anonymous = open(V5);
        anonymous.sendConnect("", true, 60, null, null, 0);
        MqttTestClient.Packet ok = anonymous.connack();
        assertEquals(0, ok.body()[1], "an empty id with clean start gets one assigned");
        gw.assertRefusals("malformed_frame", 3); // the first packet, the version, the client id
    }

    @Test
    void malformedPacketsCloseWithTheirReasonCodes() throws Exception {
        gw.start();
        record Case(String what, byte[] packet, int reason) {
        }
        java.util.List<Case> cases = java.util.List.of(
                new Case("a wildcard in a PUBLISH topic", new byte[] {0x30, 6, 0, 3, 'a', '/', '+', 0}, 0x90),
                new Case("a topic that is not UTF-8", new byte[] {0x30, 6, 0, 3, 'a', (byte) 0xC3, 0x28, 0}, 0x81),
                new Case("a remaining length of five bytes",
                        new byte[] {0x30, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F}, 0x81),
                new Case("a packet over the maximum packet size",
                        new byte[] {0x30, (byte) 0x80, (byte) 0x80, 0x10}, 0x95)); // 262,144 bytes announced
        for (Case c : cases) {
            MqttTestClient client = connected("bad-" + cases.indexOf(c), V5, true);
            client.sendRaw(c.packet());
            assertEquals(c.reason(), client.readDisconnect(), c.what());
            client.expectEof();
        }
        MqttTestClient v311 = connected("bad-311", V311, true);
        v311.sendRaw(new byte[] {0x30, 6, 0, 3, 'a', '/', '#', 0});
        v311.expectEof(); // 3.1.1 has no DISCONNECT from the server: the connection just closes
        assertEquals(0, gw.server().metrics().loopErrors.sum(), "no stack trace, no unexpected error");
    }

    @Test
    void aDrainSaysServerShuttingDownToV5Clients() throws Exception {
        gw.config.drainPeriodSec = 0;
        gw.start();
        MqttTestClient c = connected("leaving", V5, true);
        gw.api().post("/v1/drain", "");
        assertEquals(0x8B, c.readDisconnect(), "server shutting down");
        c.expectEof();
    }

    @Test
    void aWrongTokenWithJwtAuthIsBadUsernameOrPassword() throws Exception {
        gw.authenticator = io.switchboard.auth.JwtAuthenticator.hmac("0123456789abcdef0123456789abcdef", 0, false);
        gw.start();
        MqttTestClient c = open(V5);
        c.sendConnect("dev", true, 60, "dev", "not-a-jwt", 0);
        assertEquals(0x86, c.connack().body()[1] & 0xFF);
        c.expectEof();
        MqttTestClient v3 = open(V311);
        v3.sendConnect("dev", true, 60, null, null, 0);
        assertEquals(4, v3.connack().body()[1], "3.1.1: bad user name or password");
        assertFalse(gw.api().get("/v1/clients/dev").status() == 200, "no session was made");
    }
}
