package io.switchboard.mqtt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class MqttDecoderTest {
    private static final int MAX = 1 << 20;

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    /** A packet: the fixed header's first byte, then the remaining length computed from {@code body}. */
    static byte[] packet(int header, String body) {
        byte[] b = hex(body);
        io.netty.buffer.ByteBuf buf = Unpooled.buffer();
        buf.writeByte(header);
        MqttEncoder.varint(buf, b.length);
        buf.writeBytes(b);
        return io.netty.buffer.ByteBufUtil.getBytes(buf);
    }

    /** Decodes exactly one packet from {@code bytes}, checking the length first. */
    static MqttPacket decode(byte[] bytes, int version) throws MqttMalformed {
        ByteBuf b = Unpooled.wrappedBuffer(bytes);
        int n = MqttDecoder.packetLength(b, MAX);
        assertEquals(bytes.length, n, "packetLength");
        MqttPacket p = MqttDecoder.decode(b, n, version);
        assertFalse(b.isReadable(), "read exactly the packet");
        return p;
    }

    static int reason(byte[] bytes, int version) {
        return assertThrows(MqttMalformed.class, () -> decode(bytes, version)).reasonCode();
    }

    // A CONNECT as mosquitto_pub -V mqttv311 -i alice -k 60 sends it (clean session).
    static final byte[] MOSQUITTO_311 = packet(0x10, "0004 4d515454 04 02 003c 0005 616c696365");
    // mosquitto_sub -V mqttv5 -i bob -k 30 -c -x 3600 -u u -P p: session expiry property 3600, no clean start.
    static final byte[] MOSQUITTO_5 = packet(0x10, "0004 4d515454 05 c0 001e 05 11 00000e10 0003 626f62 0001 75 0001 70");

    @Test
    void connect311AsMosquittoSendsIt() throws MqttMalformed {
        Connect c = (Connect) decode(MOSQUITTO_311, 0);
        assertEquals(4, c.version());
        assertEquals("alice", c.clientId());
        assertTrue(c.cleanStart());
        assertEquals(60, c.keepAliveSec());
        assertNull(c.username());
        assertNull(c.password());
        assertNull(c.will());
        assertEquals(65535, c.receiveMaximum());
    }

    @Test
    void connect5WithPropertiesUserAndPassword() throws MqttMalformed {
        Connect c = (Connect) decode(MOSQUITTO_5, 0);
        assertEquals(5, c.version());
        assertEquals("bob", c.clientId());
        assertFalse(c.cleanStart());
        assertEquals(30, c.keepAliveSec());
        assertEquals(3600, c.sessionExpirySec());
        assertEquals("u", c.username());
        assertArrayEquals(new byte[] {'p'}, c.password());
    }

    @Test
    void connectWithAWill() throws MqttMalformed {
        // 3.1.1, will QoS 1 retained on "w" with payload "bye", clean session, client id "c"
        byte[] p = packet(0x10, "0004 4d515454 04 2e 000a 0001 63 0001 77 0003 627965");
        Connect c = (Connect) decode(p, 0);
        assertEquals("w", c.will().topic());
        assertEquals(1, c.will().qos());
        assertTrue(c.will().retain());
        assertArrayEquals("bye".getBytes(), c.will().payload());
    }

    @Test
    void connectRefusals() {
        assertEquals(MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION,
                reason(packet(0x10, "0004 4d515454 09 02 003c 0000"), 0));
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x10, "0004 4d515458 04 02 003c 0000"), 0),
                "protocol name");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x10, "0004 4d515454 04 03 003c 0000"), 0),
                "reserved flag");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x10, "0004 4d515454 04 42 003c 0000 0001 70"), 0),
                "a password without a user name in 3.1.1");
        assertEquals(MqttReasonCodes.PROTOCOL_ERROR, reason(MOSQUITTO_311, 4), "a second CONNECT");
        assertEquals(MqttReasonCodes.PROTOCOL_ERROR, reason(packet(0xc0, ""), 0), "PINGREQ before CONNECT");
        // v5: a property that CONNECT may not carry (topic alias 0x23), and one given twice
        assertEquals(MqttReasonCodes.PROTOCOL_ERROR,
                reason(packet(0x10, "0004 4d515454 05 02 003c 03 230001 0000"), 0));
        assertEquals(MqttReasonCodes.PROTOCOL_ERROR,
                reason(packet(0x10, "0004 4d515454 05 02 003c 0a 1100000001 1100000002 0000"), 0));
        assertEquals(MqttReasonCodes.MALFORMED_PACKET,
                reason(packet(0x10, "0004 4d515454 05 02 003c 01 7f 0000"), 0), "unknown property");
    }

    @Test
    void publishOfEveryQosAndVersion() throws MqttMalformed {
        Publish q0 = (Publish) decode(packet(0x30, "0003 612f62 6869"), 4);
        assertEquals("a/b", q0.topic());
        assertEquals(0, q0.qos());
        assertArrayEquals("hi".getBytes(), q0.payload());
        Publish q1 = (Publish) decode(packet(0x3b, "0003 612f62 0007 6869"), 4);
        assertEquals(1, q1.qos());
        assertTrue(q1.dup());
        assertTrue(q1.retain());
        assertEquals(7, q1.packetId());
        Publish v5 = (Publish) decode(packet(0x34, "0001 74 0009 0c 0200000005 26 0001 6b 0001 76 78"), 5);
        assertEquals(2, v5.qos());
        assertEquals(9, v5.packetId());
        assertEquals(5, v5.messageExpirySec());
        assertEquals(List.of(new UserProperty("k", "v")), v5.userProperties());
        assertArrayEquals("x".getBytes(), v5.payload());
        assertEquals(-1, ((Publish) decode(packet(0x30, "0001 74 00 78"), 5)).messageExpirySec());
    }

    @Test
    void publishRefusals() {
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x36, "0001 74 0001"), 4), "QoS 3");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x32, "0001 74 0000"), 4), "packet id 0");
        assertEquals(MqttReasonCodes.TOPIC_NAME_INVALID, reason(packet(0x30, "0001 23"), 4), "wildcard topic");
        assertEquals(MqttReasonCodes.TOPIC_NAME_INVALID, reason(packet(0x30, "0000"), 4), "empty topic in 3.1.1");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x30, "0001 00"), 4), "U+0000");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x30, "0002 c328"), 4), "bad UTF-8");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x30, "0005 61"), 4), "string past the end");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x38, "0001 74"), 4), "DUP at QoS 0");
    }

    @Test
    void acknowledgementsShortAndLong() throws MqttMalformed {
        assertEquals(new PubAck(1, 0), decode(packet(0x40, "0001"), 4));
        assertEquals(new PubAck(1, 0), decode(packet(0x40, "0001"), 5));
        assertEquals(new PubAck(2, 0x10), decode(packet(0x40, "0002 10"), 5));
        assertEquals(new PubRel(3, 0), decode(packet(0x62, "0003"), 4));
        assertEquals(new PubComp(4, 0), decode(packet(0x70, "0004"), 4));
        assertEquals(new PubRec(5, 0), decode(packet(0x50, "0005"), 4));
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x60, "0003"), 4), "PUBREL flags must be 0010");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x40, "0000"), 4), "packet id 0");
    }

    @Test
    void subscribeAndUnsubscribe() throws MqttMalformed {
        Subscribe s = (Subscribe) decode(packet(0x82, "0001 0003 612f23 01 0005 2b2f782f79 00"), 4);
        assertEquals(1, s.packetId());
        assertEquals(List.of(new Subscription("a/#", 1, false, false, 0), new Subscription("+/x/y", 0, false, false,
                0)), s.subscriptions());
        Subscribe v5 = (Subscribe) decode(packet(0x82, "0002 02 0b05 0001 74 2e"), 5);
        assertEquals(5, v5.subscriptionIdentifier());
        assertEquals(new Subscription("t", 2, true, true, 2), v5.subscriptions().getFirst());
        Unsubscribe u = (Unsubscribe) decode(packet(0xa2, "0003 0001 61 0001 62"), 4);
        assertEquals(List.of("a", "b"), u.filters());
        assertInstanceOf(PingReq.class, decode(packet(0xc0, ""), 4));
        assertEquals(new Disconnect(0, -1, null), decode(packet(0xe0, ""), 5));
        assertEquals(0x04, ((Disconnect) decode(packet(0xe0, "04"), 5)).reasonCode());
    }

    @Test
    void subscribeRefusals() {
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x80, "0001 0001 61 00"), 4), "flags 0000");
        assertEquals(MqttReasonCodes.PROTOCOL_ERROR, reason(packet(0x82, "0001"), 4), "no filter");
        for (String bad : List.of("612f232f62", "612b", "2361")) { // a/#/b, a+, #a
            int n = bad.length() / 2;
            byte[] p = packet(0x82, "0001" + String.format("%04x", n) + bad + "00");
            assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(p, 4), bad);
        }
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x82, "0001 0001 61 03"), 4), "QoS 3");
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, reason(packet(0x82, "0001 0001 61 04"), 4),
                "v5 option bits in 3.1.1");
    }

    @Test
    void packetLengthWaitsForWholePacketsAndBoundsThem() throws MqttMalformed {
        for (int cut = 0; cut < MOSQUITTO_311.length; cut++) {
            assertEquals(-1, MqttDecoder.packetLength(Unpooled.wrappedBuffer(MOSQUITTO_311, 0, cut), MAX), "cut " + cut);
        }
        int[][] boundaries = {{127, 1}, {128, 2}, {16_383, 2}, {16_384, 3}, {2_097_151, 3}, {2_097_152, 4},
            {268_435_455, 4}};
        for (int[] b : boundaries) {
            ByteBuf buf = Unpooled.buffer();
            buf.writeByte(0x30);
            MqttEncoder.varint(buf, b[0]);
            assertEquals(1 + b[1], buf.readableBytes(), b[0] + " takes " + b[1] + " bytes");
            assertEquals(-1, MqttDecoder.packetLength(buf, Integer.MAX_VALUE), "waits for " + b[0] + " bytes");
        }
        assertEquals(MqttReasonCodes.MALFORMED_PACKET, assertThrows(MqttMalformed.class,
                () -> MqttDecoder.packetLength(Unpooled.wrappedBuffer(hex("30 ff ff ff ff 01")), MAX)).reasonCode());
        assertEquals(MqttReasonCodes.PACKET_TOO_LARGE, assertThrows(MqttMalformed.class,
                () -> MqttDecoder.packetLength(Unpooled.wrappedBuffer(hex("30 ff 7f")), 1000)).reasonCode());
    }

    @Test
    void twoPacketsInOneBufferAreReadOneByOne() throws MqttMalformed {
        ByteBuf b = Unpooled.wrappedBuffer(hex("c0 00 40 02 0001 c0"));
        int n = MqttDecoder.packetLength(b, MAX);
        assertInstanceOf(PingReq.class, MqttDecoder.decode(b, n, 4));
        n = MqttDecoder.packetLength(b, MAX);
        assertEquals(new PubAck(1, 0), MqttDecoder.decode(b, n, 4));
        assertEquals(-1, MqttDecoder.packetLength(b, MAX));
        assertEquals(1, b.readableBytes());
    }
}
