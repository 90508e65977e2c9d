package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.metrics.Refusal;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Points of the MQTT 5 specification a review found the gateway missing: enhanced authentication refused rather
 * than ignored, subscription identifiers refused as the CONNACK announced, a session expiry capped to 0 stated,
 * reason strings left out rather than exceed the client's Maximum Packet Size, and messages that could not be
 * retained (the store full) still published when the sender cannot be told: a will, a v5 QoS 0 PUBLISH.
 */
@Timeout(30)
class GatewayMqttConformanceTest {
    private static final int V311 = 4;
    private static final int V5 = 5;
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

    private MqttTestClient open(int version) throws Exception {
        MqttTestClient c = MqttTestClient.open(gw.server().mqttPort(), version);
        clients.add(c);
        return c;
    }

    private MqttTestClient connected(String id, int version) throws Exception {
        MqttTestClient c = open(version);
        assertEquals(0, c.connect(id, true));
        return c;
    }

    @Test
    void aConnectAskingForEnhancedAuthenticationIsRefusedWithBadAuthenticationMethod() throws Exception {
        gw.start();
        MqttTestClient c = open(V5);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60});
        byte[] method = "SCRAM-SHA-1".getBytes(StandardCharsets.US_ASCII);
        b.write(3 + method.length); // properties: Authentication Method
        b.write(0x15);
        b.write(0);
        b.write(method.length);
        b.writeBytes(method);
        b.writeBytes(new byte[] {0, 1, 'x'});
        c.sendRaw(packet(0x10, b.toByteArray()));
        MqttTestClient.Packet connack = c.connack();
        assertEquals(0x8C, connack.body()[1] & 0xFF, "bad authentication method (MQTT 5 4.12)");
        c.expectEof();
    }

    @Test
    void aSubscribeWithASubscriptionIdentifierIsRefusedAsTheConnackSaid() throws Exception {
        gw.start();
        MqttTestClient c = connected("router", V5);
        // SUBSCRIBE id 1, properties: Subscription Identifier 5, filter a/b at QoS 0.
        c.sendRaw(packet(0x82, new byte[] {0, 1, 2, 0x0B, 5, 0, 3, 'a', '/', 'b', 0}));
        MqttTestClient.Packet suback = c.expect(MqttTestClient.SUBACK);
        int at = 2 + 1 + (suback.body()[2] & 0xFF);
        assertEquals(0xA1, suback.body()[at] & 0xFF, "subscription identifiers not supported");
        MqttTestClient publisher = connected("publisher", V5);
        publisher.publish("a/b", "not for router", 0, 0);
        c.expectSilence(300); // nothing was subscribed
    }

    @Test
    void aSessionExpiryCappedToZeroIsStatedInTheConnack() throws Exception {
        gw.config.mqttMaxSessionExpirySec = 0;
        gw.start();
        MqttTestClient c = open(V5);
        c.sendConnect("phone", false, 60, null, null, 0, 3600);
        MqttTestClient.Packet connack = c.connack();
        assertEquals(0, connack.body()[1] & 0xFF);
        assertEquals(0L, fourByteProperty(connack.body(), 2, 0x11),
                "absent, the client would take its 3600 s as granted (MQTT 5 3.2.2.3.2)");
    }

    @Test
    void aReasonStringIsLeftOutRatherThanExceedTheClientsMaximumPacketSize() throws Exception {
        gw.start();
        MqttTestClient c = open(V5);
        c.sendConnect("small", true, 60, null, null, 0, -1, 24);
        assertEquals(0, c.connack().body()[1] & 0xFF);
        c.sendRaw(new byte[] {0x30, 6, 0, 3, 'a', '/', '+', 0}); // a PUBLISH to a topic with a wildcard
        MqttTestClient.Packet disconnect = c.expect(MqttTestClient.DISCONNECT);
        assertTrue(2 + disconnect.body().length <= 24, "DISCONNECT of " + (2 + disconnect.body().length)
                + " bytes to a client that takes at most 24");
        assertTrue((disconnect.body()[0] & 0xFF) >= 0x80, "still says why, by its code");
    }

    @Test
    void aRetainedWillIsPublishedWhenTheRetainedMessagesAreFull() throws Exception {
        gw.config.maxRetained = 1;
        gw.start();
        assertEquals(200, gw.api().post("/v1/topics/config/messages?retain=true", "full").status());
        MqttTestClient watcher = connected("watcher", V311);
        assertEquals(0, watcher.subscribeAndWait(1, "devices/+/status", 0));
        MqttTestClient device = open(V311);
        assertEquals(0, device.connectWithWill("dev1", "devices/dev1/status", "offline", true, 0));
        device.close(); // dropped: its will is due
        MqttTestClient.Pub will = watcher.readPublish();
        assertEquals("devices/dev1/status", will.topic());
        assertEquals("offline", will.text());
        assertEquals(1, gw.server().metrics().refusals(Refusal.RETAINED_FULL), "not retained, and counted");
    }

    @Test
    void aV5Qos0RetainedPublishIsDeliveredWhenTheRetainedMessagesAreFull() throws Exception {
        gw.config.maxRetained = 1;
        gw.start();
        assertEquals(200, gw.api().post("/v1/topics/config/messages?retain=true", "full").status());
        MqttTestClient watcher = connected("watcher", V5);
        assertEquals(0, watcher.subscribeAndWait(1, "sensors/#", 0));
        MqttTestClient sensor = connected("sensor", V5);
        sensor.publishRetained("sensors/t", "21", 0, 0); // no acknowledgement to refuse it with
        MqttTestClient.Pub live = watcher.readPublish();
        assertEquals("21", live.text());
        assertEquals(1, gw.server().metrics().refusals(Refusal.RETAINED_FULL));
    }

    /** The value of four-byte property {@code id} in the property list at {@code at} of {@code body}, or -1. */
    private static long fourByteProperty(byte[] body, int start, int id) {
        int[] pos = {start};
        int length = MqttTestClient.varint(body, pos);
        int at = pos[0];
        int end = at + length;
        while (at < end) {
            int p = body[at++] & 0xFF;
            int size = switch (p) {
                case 0x11, 0x27 -> 4; // session expiry, maximum packet size
                case 0x13, 0x21, 0x22 -> 2; // server keep alive, receive maximum, topic alias maximum
                case 0x24, 0x25, 0x28, 0x29, 0x2A -> 1; // maximum qos, retain, wildcard, sub ids, shared
                case 0x12, 0x1F -> 2 + (((body[at] & 0xFF) << 8) | (body[at + 1] & 0xFF)); // strings
                default -> throw new AssertionError("property " + p + " not expected in a CONNACK here");
            };
            if (p == id) {
                return ((long) (body[at] & 0xFF) << 24) | ((body[at + 1] & 0xFF) << 16) | ((body[at + 2] & 0xFF) << 8)
                        | (body[at + 3] & 0xFF);
            }
            at += size;
        }
        return -1;
    }

    private static byte[] packet(int header, byte[] body) {
        assertTrue(body.length < 128);
        byte[] p = new byte[2 + body.length];
        p[0] = (byte) header;
        p[1] = (byte) body.length;
        System.arraycopy(body, 0, p, 2, body.length);
        return p;
    }
}
