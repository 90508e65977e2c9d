package io.switchboard.mqtt;

import static io.switchboard.mqtt.ClientPackets.hex;
import static io.switchboard.mqtt.ClientPackets.packet;
import static io.switchboard.mqtt.MqttReasonCodes.MALFORMED_PACKET;
import static io.switchboard.mqtt.MqttReasonCodes.PROTOCOL_ERROR;
import static io.switchboard.mqtt.PacketAssert.assertPacketEquals;
import static io.switchboard.mqtt.PacketAssert.decode;
import static io.switchboard.mqtt.PacketAssert.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The decoder on what real clients send (bytes captured from mosquitto 2.0.11's mosquitto_pub and mosquitto_sub) and
 * on every kind of packet the specification forbids.
 */
class MqttDecoderTest {
    private static final int V311 = MqttVersion.V311;
    private static final int V5 = MqttVersion.V5;

    /** {@code mosquitto_pub -V mqttv311 -i alice -t a/b -m hi}: clean session, keep-alive 60. */
    static final byte[] MOSQUITTO_PUB_311 = hex("10 11 0004 4d515454 04 02 003c 0005 616c696365");
    /**
     * {@code mosquitto_sub -V mqttv5 -i bob -k 30 -c -x 3600 -u u -P p -t a/+ -D connect user-property k v}: user
     * property k=v, session expiry 3600, receive maximum 20 (mosquitto's default), no clean start, user and password.
     */
    static final byte[] MOSQUITTO_SUB_5 = hex("10 25 0004 4d515454 05 c0 001e 0f 26 0001 6b 0001 76 11 00000e10 21 0014"
            + " 0003 626f62 0001 75 0001 70");
    /** {@code mosquitto_pub -V mqttv5 -i frank -q 2 ... --will-qos 2 -D will will-delay-interval 10 ...}. */
    static final byte[] MOSQUITTO_PUB_5_WILL = hex("10 3d 0004 4d515454 05 16 003c 12 11 0000003c 27 000003e8 22 0005"
            + " 17 00 21 0014 0005 6672616e6b 0e 18 0000000a 26 0002 776b 0002 7776 0003 772f74 0003 627965");
    /** {@code mosquitto_pub -V mqttv5 -q 1 -r -t a/b -m hi} with every PUBLISH property mosquitto lets one set. */
    static final byte[] MOSQUITTO_PUBLISH_5 = hex("33 30 0003 612f62 0001 26 26 0001 6b 0001 76 02 0000003c"
            + " 03 000a 746578742f706c61696e 08 0003 722f74 09 0002 6331 01 01 6869");
    /** {@code mosquitto_sub -V mqttv5 -t a/+ -t b/# -q 1 -D subscribe subscription-identifier 7 ...}. */
    static final byte[] MOSQUITTO_SUBSCRIBE_5 = hex("82 18 0001 09 0b 07 26 0001 78 0001 79 0003 612f2b 01 0003 622f23"
            + " 01");

    @Test
    void connect311AsMosquittoPubSendsIt() throws MqttMalformed {
        assertPacketEquals(new Connect(V311, "alice", true, 60, null, null, null, 0, 65535, 0, 0, true, List.of(),
                null), decode(MOSQUITTO_PUB_311, 0));
    }

    @Test
    void connect311WithAWillAsMosquittoPubSendsIt() throws MqttMalformed {
        // mosquitto_pub -V mqttv311 -i alice -q 2 --will-topic w/t --will-payload bye --will-qos 1 --will-retain
        byte[] connect = hex("10 1b 0004 4d515454 04 2e 003c 0005 616c696365 0003 772f74 0003 627965");
        Will will = new Will("w/t", bytes("bye"), 1, true, 0, List.of());
        assertPacketEquals(new Connect(V311, "alice", true, 60, null, null, will, 0, 65535, 0, 0, true, List.of(),
                null), decode(connect, 0));
        // and what followed it: a QoS 2 PUBLISH, its PUBREL, DISCONNECT
        assertPacketEquals(new Publish("a/b", bytes("hi"), 2, false, false, 1, 0, -1, List.of(), null, null, null,
                null), decode(hex("34 09 0003 612f62 0001 6869"), V311));
        assertEquals(new PubRel(1, 0), decode(hex("62 02 0001"), V311));
        assertSame(Disconnect.NORMAL, decode(hex("e0 00"), V311));
    }

    @Test
    void connect5WithPropertiesAsMosquittoSubSendsIt() throws MqttMalformed {
        assertPacketEquals(new Connect(V5, "bob", false, 30, "u", bytes("p"), null, 3600, 20, 0, 0, true,
                List.of(new UserProperty("k", "v")), null), decode(MOSQUITTO_SUB_5, 0));
    }

    @Test
    void connect5WithWillPropertiesAsMosquittoPubSendsIt() throws MqttMalformed {
        Will will = new Will("w/t", bytes("bye"), 2, false, 10, List.of(new UserProperty("wk", "wv")));
        assertPacketEquals(new Connect(V5, "frank", true, 60, null, null, will, 60, 20, 1000, 5, false, List.of(),
                null), decode(MOSQUITTO_PUB_5_WILL, 0));
        assertPacketEquals(new Publish("a/b", bytes("hi"), 2, false, false, 1, 0, -1, List.of(), null, null, null,
                null), decode(hex("34 0a 0003 612f62 0001 00 6869"), V5));
    }

    @Test
    void publish5WithEveryPropertyAsMosquittoPubSendsIt() throws MqttMalformed {
        assertPacketEquals(new Publish("a/b", bytes("hi"), 1, true, false, 1, 0, 60,
                List.of(new UserProperty("k", "v")), "text/plain", "r/t", bytes("c1"), 1),
                decode(MOSQUITTO_PUBLISH_5, V5));
        // its DISCONNECT with a reason string
        assertEquals(new Disconnect(0, -1, "bye"), decode(hex("e0 08 00 06 1f 0003 627965"), V5));
    }

    @Test
    void subscribeUnsubscribeDisconnectAsMosquittoSubSendsThem() throws MqttMalformed {
        assertPacketEquals(new Subscribe(1, List.of(new Subscription("a/+", 1, false, false, 0),
                new Subscription("b/#", 1, false, false, 0)), 7, List.of(new UserProperty("x", "y"))),
                decode(MOSQUITTO_SUBSCRIBE_5, V5));
        assertPacketEquals(new Unsubscribe(2, List.of("a/+"), List.of(new UserProperty("u", "v"))),
                decode(hex("a2 0f 0002 07 26 0001 75 0001 76 0003 612f2b"), V5));
        assertEquals(new Disconnect(MqttReasonCodes.DISCONNECT_WITH_WILL_MESSAGE, -1, null), decode(hex("e0 01 04"),
                V5));
        // the same in 3.1.1, -q 2
        assertPacketEquals(new Subscribe(1, List.of(new Subscription("a/+", 2, false, false, 0),
                new Subscription("b/#", 2, false, false, 0)), 0, List.of()),
                decode(hex("82 0e 0001 0003 612f2b 02 0003 622f23 02"), V311));
        assertPacketEquals(new Unsubscribe(2, List.of("a/+"), List.of()), decode(hex("a2 07 0002 0003 612f2b"), V311));
    }

    @Test
    void mqtt31IsAcceptedAndSaysSo() throws MqttMalformed {
        Connect c = (Connect) decode(packet(0x10, "0006 4d5149736470 03 02 003c 0001 63"), 0);
        assertEquals(MqttVersion.V31, c.version());
        assertEquals("c", c.clientId());
        assertEquals(new PubAck(5, 0), decode(hex("40 02 0005"), MqttVersion.V31));
        // 3.1 sets DUP on the PUBREL, SUBSCRIBE and UNSUBSCRIBE it sends again: refused, a client with a persistent
        // session sent them again at every reconnect, closed each time. Later versions keep the flags fixed.
        assertEquals(new PubRel(1, 0), decode(hex("6a 02 0001"), MqttVersion.V31));
        assertEquals("a", ((Subscribe) decode(hex("8a 06 0001 0001 61 00"), MqttVersion.V31)).subscriptions().get(0)
                .filter());
        assertPacketEquals(new Unsubscribe(2, List.of("a"), List.of()), decode(hex("aa 05 0002 0001 61"),
                MqttVersion.V31));
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(hex("6a 02 0001"), V311));
    }

    @Test
    void v5PasswordWithoutUserName() throws MqttMalformed {
        Connect c = (Connect) decode(packet(0x10, "0004 4d515454 05 42 003c 00 0000 0002 7077"), 0);
        assertEquals(null, c.username());
        assertEquals("pw", new String(c.password(), StandardCharsets.UTF_8));
        assertEquals("", c.clientId());
    }

    @Test
    void acknowledgementsShortAndLong() throws MqttMalformed {
        assertEquals(new PubAck(1, 0), decode(hex("40 02 0001"), V311));
        assertEquals(new PubAck(1, 0), decode(hex("40 02 0001"), V5));
        assertEquals(new PubAck(2, 0x10), decode(hex("40 03 0002 10"), V5));
        assertEquals(new PubAck(2, 0x10), decode(packet(0x40, "0002 10 00"), V5), "empty properties");
        assertEquals(new PubRec(3, 0x80), decode(packet(0x50, "0003 80 04 1f 0001 78"), V5), "with a reason string");
        assertEquals(new PubRel(4, 0x92), decode(hex("62 03 0004 92"), V5));
        assertEquals(new PubComp(5, 0), decode(hex("70 02 0005"), V311));
        assertEquals(MALFORMED_PACKET, reason(packet(0x40, "0001 00"), V311), "3.1.1 has no reason code");
    }

    @Test
    void authDisconnectAndPing() throws MqttMalformed {
        assertPacketEquals(new Auth(0x18, "SCRAM", bytes("xy")), decode(packet(0xF0, "18 0d 15 0005 534352414d 16 0002"
                + " 7879"), V5));
        assertPacketEquals(new Auth(0, null, null), decode(hex("f0 00"), V5));
        assertEquals(new Disconnect(0x81, 0, "x"), decode(packet(0xE0, "81 09 11 00000000 1f 0001 78"), V5));
        assertSame(PingReq.INSTANCE, decode(hex("c0 00"), V5));
    }

    @Test
    void decodingWalksAStreamOfPacketsOneByOne() throws MqttMalformed {
        ByteBuf b = Unpooled.wrappedBuffer(hex("c0 00 40 02 0001 c0"));
        int n = MqttDecoder.packetLength(b, PacketAssert.MAX);
        assertSame(PingReq.INSTANCE, MqttDecoder.decode(b, n, V311));
        n = MqttDecoder.packetLength(b, PacketAssert.MAX);
        assertEquals(new PubAck(1, 0), MqttDecoder.decode(b, n, V311));
        assertEquals(-1, MqttDecoder.packetLength(b, PacketAssert.MAX));
        assertEquals(1, b.readableBytes());
        // a malformed packet is skipped too: the next one is where the reader index is
        ByteBuf c = Unpooled.wrappedBuffer(hex("40 02 0000 c0 00"));
        assertThrows(MqttMalformed.class, () -> MqttDecoder.decode(c, 4, V311));
        assertEquals(4, c.readerIndex());
    }

    @Test
    void aLengthThatIsNotThePacketsIsTheCallersMistake() {
        ByteBuf b = Unpooled.wrappedBuffer(hex("40 02 0001 c0 00"));
        for (int wrong : new int[] {0, 1, 3, 5, 6, 7}) {
            assertThrows(IllegalArgumentException.class, () -> MqttDecoder.decode(b, wrong, V311), "length " + wrong);
            assertEquals(0, b.readerIndex());
        }
    }

    // ---- what the specification forbids

    @Test
    void connectRefusals() {
        assertEquals(MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION, reason(packet(0x10, "0004 4d515454 06 02 003c 0000"),
                0), "level 6");
        assertEquals(MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION, reason(packet(0x10, "0004 4d515454 03 02 003c 0000"),
                0), "level 3 named MQTT");
        assertEquals(MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION,
                reason(packet(0x10, "0006 4d5149736470 04 02 003c 0000"), 0), "level 4 named MQIsdp");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, "0004 4d515458 04 02 003c 0000"), 0), "protocol name MQTX");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, "0004 6d717474 04 02 003c 0000"), 0), "mqtt in lower case");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, "0004 4d515454 04 03 003c 0000"), 0), "reserved flag");
        assertEquals(MALFORMED_PACKET, reason(packet(0x12, "0004 4d515454 04 02 003c 0000"), 0), "header flags");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, "0004 4d515454 04 42 003c 0000 0001 70"), 0),
                "a password without a user name in 3.1.1");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, "0004 4d515454 04 1e 003c 0000 0001 77 0000"), 0),
                "will QoS 3");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, "0004 4d515454 04 22 003c 0000"), 0),
                "will retain without a will");
        assertEquals(MqttReasonCodes.TOPIC_NAME_INVALID,
                reason(packet(0x10, "0004 4d515454 04 06 003c 0000 0001 23 0000"), 0), "will topic #");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, "0004 4d515454 04 02 003c 0005 6162"), 0),
                "client id past the end");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, "0004 4d515454 04 02 003c 0000 00"), 0), "a byte too many");
        assertEquals(PROTOCOL_ERROR, reason(MOSQUITTO_PUB_311, V311), "a second CONNECT");
        assertEquals(PROTOCOL_ERROR, reason(hex("c0 00"), 0), "PINGREQ before CONNECT");
    }

    @Test
    void v5PropertyRefusals() {
        String head = "0004 4d515454 05 02 003c ";
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, head + "03 230001 0000"), 0),
                "topic alias, a PUBLISH property, in CONNECT");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, head + "02 7f00 0000"), 0), "unknown property 0x7f");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, head + "02 0000 0000"), 0), "property 0 does not exist");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x10, head + "0a 1100000001 1100000002 0000"), 0),
                "session expiry twice");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x10, head + "03 210000 0000"), 0), "receive maximum 0");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x10, head + "05 2700000000 0000"), 0), "maximum packet size 0");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x10, head + "02 1702 0000"), 0), "request problem information 2");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x10, head + "04 16 0001 78 0000"), 0),
                "authentication data without a method");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, head + "07 110000 0000"), 0),
                "properties longer than what follows");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, head + "02 1100 000000 0000"), 0),
                "a property that runs past the property length");
        assertEquals(MALFORMED_PACKET, reason(packet(0x10, head + "ffffffff7f"), 0), "a 5-byte property length");
        // user properties may repeat
        assertEquals(2, ((Connect) assertDecodes(packet(0x10, head + "0e 26 0001 61 0001 62 26 0001 61 0001 63 0000")))
                .userProperties().size());
        assertEquals(MqttReasonCodes.TOPIC_ALIAS_INVALID, reason(packet(0x30, "0000 03 230000"), V5), "topic alias 0");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x30, "0001 74 02 0102"), V5), "payload format 2");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x30, "0001 74 05 08 0002 232f"), V5), "response topic #/");
        assertEquals(MALFORMED_PACKET, reason(packet(0x30, "0001 74 02 0b01"), V5), "subscription id in PUBLISH");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x82, "0001 02 0b00 0001 74 00"), V5), "subscription id 0");
        assertEquals(MALFORMED_PACKET, reason(packet(0xa2, "0001 02 0b01 0001 74"), V5), "subscription id in UNSUBSCRIBE");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x40, "0001 05"), V5), "PUBACK reason 5 does not exist");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x62, "0001 10"), V5), "PUBREL reason 0x10 is PUBACK's");
        assertEquals(PROTOCOL_ERROR, reason(packet(0xe0, "05"), V5), "DISCONNECT reason 5");
        assertEquals(PROTOCOL_ERROR, reason(packet(0xf0, "18 00"), V5), "AUTH without a method");
        assertEquals(PROTOCOL_ERROR, reason(packet(0xf0, "01 00"), V5), "AUTH reason 1");
        assertEquals(MALFORMED_PACKET, reason(packet(0xf0, ""), V311), "AUTH is reserved in 3.1.1");
    }

    @Test
    void publishRefusals() {
        assertEquals(MALFORMED_PACKET, reason(packet(0x36, "0001 74 0001"), V311), "QoS 3");
        assertEquals(MALFORMED_PACKET, reason(packet(0x32, "0001 74 0000"), V311), "QoS 1 with packet id 0");
        assertEquals(MALFORMED_PACKET, reason(packet(0x34, "0001 74 0000"), V5), "QoS 2 with packet id 0");
        assertEquals(MALFORMED_PACKET, reason(packet(0x38, "0001 74"), V311), "DUP at QoS 0");
        assertEquals(MqttReasonCodes.TOPIC_NAME_INVALID, reason(packet(0x30, "0003 612f23"), V311), "a/#");
        assertEquals(MqttReasonCodes.TOPIC_NAME_INVALID, reason(packet(0x30, "0003 2b2f61 00"), V5), "+/a");
        assertEquals(MqttReasonCodes.TOPIC_NAME_INVALID, reason(packet(0x30, "0000"), V311), "empty in 3.1.1");
        assertEquals(MqttReasonCodes.TOPIC_NAME_INVALID, reason(packet(0x30, "0000 00"), V5), "empty without alias");
        assertEquals(MALFORMED_PACKET, reason(packet(0x30, "0001 74"), V5), "v5 without a property length");
        assertEquals(MALFORMED_PACKET, reason(packet(0x30, "0005 61"), V311), "topic runs past the end");
        assertEquals(MALFORMED_PACKET, reason(packet(0x30, "00"), V311), "half a topic length");
    }

    @Test
    void stringsMustBeWellFormedUtf8WithoutNul() throws MqttMalformed {
        String[] bad = {"00", "6100", "c328", "c0af", "e080af", "eda080", "f08f8080", "f4908080", "f8888080", "80",
            "c3", "e282", "f09f98", "ff"};
        for (String s : bad) {
            byte[] p = packet(0x30, String.format("%04x", s.length() / 2) + s);
            assertEquals(MALFORMED_PACKET, reason(p, V311), s);
        }
        // the largest of each length, and a pair: valid
        String[] good = {"7f", "c280", "dfbf", "e0a080", "ed9fbf", "ee8080", "efbfbf", "f0908080", "f48fbfbf",
            "f09f9880", "c3bc e282ac"};
        for (String s : good) {
            String h = s.replace(" ", "");
            Publish p = (Publish) decode(packet(0x30, String.format("%04x", h.length() / 2) + h), V311);
            assertEquals(new String(hex(h), StandardCharsets.UTF_8), p.topic(), s);
        }
    }

    @Test
    void subscribeRefusals() {
        assertEquals(MALFORMED_PACKET, reason(packet(0x80, "0001 0001 61 00"), V311), "flags 0000");
        assertEquals(MALFORMED_PACKET, reason(packet(0xa0, "0001 0001 61"), V311), "UNSUBSCRIBE flags 0000");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x82, "0001"), V311), "no filter");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x82, "0001 00"), V5), "no filter, v5");
        assertEquals(PROTOCOL_ERROR, reason(packet(0xa2, "0001"), V311), "UNSUBSCRIBE without a filter");
        assertEquals(MALFORMED_PACKET, reason(packet(0x82, "0000 0001 61 00"), V311), "packet id 0");
        for (String bad : List.of("a/#/b", "a+", "#a", "a/b#", "+a", "", "a\u0000")) {
            byte[] f = bad.getBytes(StandardCharsets.UTF_8);
            byte[] p = packet(0x82, String.format("0001 %04x", f.length) + hexOf(f) + "00");
            assertEquals(MALFORMED_PACKET, reason(p, V311), bad);
            byte[] u = packet(0xa2, String.format("0001 %04x", f.length) + hexOf(f));
            assertEquals(MALFORMED_PACKET, reason(u, V311), "UNSUBSCRIBE " + bad);
        }
        assertEquals(MALFORMED_PACKET, reason(packet(0x82, "0001 0001 61 03"), V311), "QoS 3");
        assertEquals(MALFORMED_PACKET, reason(packet(0x82, "0001 0001 61 04"), V311), "v5 option bits in 3.1.1");
        assertEquals(MALFORMED_PACKET, reason(packet(0x82, "0001 0001 61"), V311), "no options byte");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x82, "0001 00 0001 61 03"), V5), "QoS 3, v5");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x82, "0001 00 0001 61 30"), V5), "retain handling 3");
        assertEquals(MALFORMED_PACKET, reason(packet(0x82, "0001 00 0001 61 40"), V5), "reserved option bit");
        assertEquals(PROTOCOL_ERROR, reason(packet(0x82, "0001 00 000a 247368617265 2f672f74 04"), V5),
                "no local on $share/g/t");
    }

    @Test
    void otherPacketRefusals() {
        assertEquals(MALFORMED_PACKET, reason(packet(0x60, "0003"), V311), "PUBREL flags must be 0010");
        assertEquals(MALFORMED_PACKET, reason(packet(0x42, "0003"), V311), "PUBACK flags must be 0000");
        assertEquals(MALFORMED_PACKET, reason(packet(0x40, "0000"), V311), "packet id 0");
        assertEquals(MALFORMED_PACKET, reason(packet(0x40, "00"), V311), "half a packet id");
        assertEquals(MALFORMED_PACKET, reason(packet(0xc1, ""), V311), "PINGREQ flags");
        assertEquals(MALFORMED_PACKET, reason(packet(0xc0, "00"), V311), "PINGREQ with a body");
        assertEquals(MALFORMED_PACKET, reason(packet(0xe0, "00"), V311), "3.1.1 DISCONNECT with a body");
        assertEquals(MALFORMED_PACKET, reason(packet(0x00, ""), V311), "type 0");
        for (int serverOnly : new int[] {0x20, 0x90, 0xb0, 0xd0}) {
            assertEquals(PROTOCOL_ERROR, reason(packet(serverOnly, "0001"), V311), "type " + (serverOnly >> 4));
        }
    }

    private static Object assertDecodes(byte[] packet) {
        try {
            return decode(packet, 0);
        } catch (MqttMalformed e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String hexOf(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }
}
