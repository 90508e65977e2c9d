package io.switchboard.mqtt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every server packet against bytes computed by hand from the specification, in each version. */
class MqttEncoderTest {
    private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final int V31 = MqttVersion.V31;
    private static final int V311 = MqttVersion.V311;
    private static final int V5 = MqttVersion.V5;

    /** The bytes in hex; checks the buffer was allocated at exactly its size, and releases it. */
    private static String hex(ByteBuf b) {
        try {
            assertEquals(b.readableBytes(), b.capacity(), "allocated at its exact size");
            return ByteBufUtil.hexDump(b);
        } finally {
            b.release();
        }
    }

    private static String h(String spaced) {
        return spaced.replace(" ", "");
    }

    @Test
    void connack() {
        assertEquals("20020000", hex(MqttEncoder.connack(ALLOC, V311, false, 0, null)));
        assertEquals("20020100", hex(MqttEncoder.connack(ALLOC, V311, true, 0, null)));
        assertEquals("20020005", hex(MqttEncoder.connack(ALLOC, V311, true, 5, null)), "no session on a refusal");
        assertEquals("20020000", hex(MqttEncoder.connack(ALLOC, V31, true, 0, null)), "3.1 has no session present");
        assertEquals("20020000", hex(MqttEncoder.connack(ALLOC, V311, false, 0, ConnackProperties.none()
                .withReasonString("ignored before v5"))));
        assertEquals("2003000000", hex(MqttEncoder.connack(ALLOC, V5, false, 0, null)));
        assertEquals("2003010000", hex(MqttEncoder.connack(ALLOC, V5, true, 0, ConnackProperties.none())));
        assertEquals("2003008700", hex(MqttEncoder.connack(ALLOC, V5, true, 0x87, null)));
        assertEquals(h("20 09 00 00 06 21 0080 13 003c"), hex(MqttEncoder.connack(ALLOC, V5, false, 0,
                ConnackProperties.none().withReceiveMaximum(128).withServerKeepAliveSec(60))));
        ConnackProperties all = ConnackProperties.none().withSessionExpirySec(3600).withReceiveMaximum(100)
                .withMaximumQos(1).withRetainAvailable(false).withMaximumPacketSize(65_536)
                .withAssignedClientId("id").withTopicAliasMaximum(0).withReasonString("ok")
                .withWildcardSubscriptionAvailable(true).withSubscriptionIdentifiersAvailable(false)
                .withSharedSubscriptionAvailable(false).withServerKeepAliveSec(30).withServerReference("s");
        assertEquals(h("20 2e 00 00 2b 11 00000e10 21 0064 24 01 25 00 27 00010000 12 0002 6964 22 0000"
                + " 1f 0002 6f6b 28 01 29 00 2a 00 13 001e 1c 0001 73"), hex(MqttEncoder.connack(ALLOC, V5, false, 0, all)));
        // "absent" values remove a property again
        assertEquals("2003000000", hex(MqttEncoder.connack(ALLOC, V5, false, 0, all.withSessionExpirySec(-1)
                .withReceiveMaximum(0).withMaximumQos(-1).withRetainAvailable(null).withMaximumPacketSize(0)
                .withAssignedClientId(null).withTopicAliasMaximum(-1).withReasonString(null)
                .withWildcardSubscriptionAvailable(null).withSubscriptionIdentifiersAvailable(null)
                .withSharedSubscriptionAvailable(null).withServerKeepAliveSec(-1).withServerReference(null))));
    }

    @Test
    void acknowledgements() {
        assertEquals("40020001", hex(MqttEncoder.puback(ALLOC, V311, 1, 0)));
        assertEquals("40020001", hex(MqttEncoder.puback(ALLOC, V5, 1, 0)), "v5 short form");
        assertEquals("4003000110", hex(MqttEncoder.puback(ALLOC, V5, 1, 0x10)));
        assertEquals("4002ffff", hex(MqttEncoder.puback(ALLOC, V311, 65_535, 0x80)), "3.1.1 has no reason code");
        assertEquals("50020009", hex(MqttEncoder.pubrec(ALLOC, V311, 9, 0)));
        assertEquals("5003000991", hex(MqttEncoder.pubrec(ALLOC, V5, 9, 0x91)));
        assertEquals("62020009", hex(MqttEncoder.pubrel(ALLOC, V311, 9, 0)));
        assertEquals("6203000992", hex(MqttEncoder.pubrel(ALLOC, V5, 9, 0x92)));
        assertEquals("70020009", hex(MqttEncoder.pubcomp(ALLOC, V5, 9, 0)));
        assertEquals("7003000992", hex(MqttEncoder.pubcomp(ALLOC, V5, 9, 0x92)));
        assertEquals("d000", hex(MqttEncoder.pingresp(ALLOC)));
    }

    @Test
    void subackAndUnsuback() {
        assertEquals(h("90 04 0007 01 80"), hex(MqttEncoder.suback(ALLOC, V311, 7, new int[] {1, 0x80})));
        assertEquals(h("90 05 0007 02 00 80"), hex(MqttEncoder.suback(ALLOC, V311, 7, new int[] {2, 0, 0x8F})),
                "every 3.1.1 failure is 0x80");
        assertEquals(h("90 05 0007 00 01 8f"), hex(MqttEncoder.suback(ALLOC, V5, 7, new int[] {1, 0x8F})));
        assertEquals(h("b0 02 0007"), hex(MqttEncoder.unsuback(ALLOC, V311, 7, new int[] {0})));
        assertEquals(h("b0 04 0007 00 11"), hex(MqttEncoder.unsuback(ALLOC, V5, 7, new int[] {0x11})));
        assertEquals(h("b0 06 0007 00 00 11 87"), hex(MqttEncoder.unsuback(ALLOC, V5, 7, new int[] {0, 0x11, 0x87})));
        byte[] many = new byte[200];
        int[] codes = new int[200];
        java.util.Arrays.fill(codes, 1);
        java.util.Arrays.fill(many, (byte) 1);
        assertEquals(h("90 cb01 0001 00") + ByteBufUtil.hexDump(many), hex(MqttEncoder.suback(ALLOC, V5, 1, codes)),
                "a two-byte remaining length");
    }

    @Test
    void disconnect() {
        assertEquals("e000", hex(MqttEncoder.disconnect(ALLOC, V5, 0, null, null)), "short form");
        assertEquals(h("e0 06 8e 04 1f 0001 78"), hex(MqttEncoder.disconnect(ALLOC, V5, 0x8E, "x", null)));
        assertEquals(h("e0 02 8b 00"), hex(MqttEncoder.disconnect(ALLOC, V5, 0x8B, null, null)));
        assertEquals(h("e0 0f 9c 0d 1c 000a 6f746865723a31383833"),
                hex(MqttEncoder.disconnect(ALLOC, V5, 0x9C, null, "other:1883")));
        assertEquals(h("e0 0c 8b 0a 1f 0003 627965 1c 0001 73"), hex(MqttEncoder.disconnect(ALLOC, V5, 0x8B, "bye",
                "s")));
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.disconnect(ALLOC, V311, 0x8E, null, null));
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.disconnect(ALLOC, V31, 0, null, null));
    }

    @Test
    void publish() {
        byte[] hi = "hi".getBytes(StandardCharsets.UTF_8);
        assertEquals(h("30 07 0003 612f62 6869"), hex(MqttEncoder.publish(ALLOC, V311, "a/b", hi, 0, false, false, 9,
                List.of())), "QoS 0: no packet id");
        assertEquals(h("3b 09 0003 612f62 000a 6869"), hex(MqttEncoder.publish(ALLOC, V311, "a/b", hi, 1, true, true,
                10, List.of())));
        assertEquals(h("30 07 0003 612f62 6869"), hex(MqttEncoder.publish(ALLOC, V311, "a/b", hi, 0, false, false, 0,
                List.of(new UserProperty("k", "v")))), "no properties before v5");
        assertEquals(h("30 08 0003 612f62 00 6869"), hex(MqttEncoder.publish(ALLOC, V5, "a/b", hi, 0, false, false, 0,
                List.of())));
        assertEquals(h("34 11 0003 612f62 0001 07 26 0001 6b 0001 76 6869"), hex(MqttEncoder.publish(ALLOC, V5, "a/b",
                hi, 2, false, false, 1, List.of(new UserProperty("k", "v")))));
        assertEquals(h("30 0a 0006 c3bc2fe282ac 6869"), hex(MqttEncoder.publish(ALLOC, V311, "ü/€", hi, 0, false, false,
                0, List.of())), "UTF-8 topic");
        assertEquals(h("30 03 0001 74"), hex(MqttEncoder.publish(ALLOC, V311, "t", new byte[0], 0, false, false, 0,
                List.of())), "empty payload");
    }

    @Test
    void publishWithEveryMessagePropertyInTheOrderMqtt5ListsThem() throws MqttMalformed {
        byte[] hi = "hi".getBytes(StandardCharsets.UTF_8);
        PublishProperties props = new PublishProperties(1, 60, "t", "r/x", new byte[] {1, 2},
                List.of(new UserProperty("k", "v")));
        ByteBuf b = MqttEncoder.publish(ALLOC, V5, "a/b", hi, 0, false, false, 0, props);
        // 01 payload format, 02 message expiry (4 bytes), 03 content type, 08 response topic, 09 correlation data
        // (2-byte length), 26 user property: 29 bytes of properties.
        assertEquals(h("30 25 0003 612f62 1d 0101 020000003c 03000174 080003722f78 0900020102 2600016b000176 6869"),
                hex(b.copy()));
        assertEquals(b.readableBytes(), MqttEncoder.publishBytes(V5, "a/b", hi.length, 0, props));
        Publish decoded = (Publish) MqttDecoder.decode(b, b.readableBytes(), V5);
        b.release();
        PublishProperties back = decoded.properties();
        assertEquals(List.of(1, 60L, "t", "r/x", List.of(new UserProperty("k", "v"))), List.of(back.payloadFormat(),
                back.messageExpirySec(), back.contentType(), back.responseTopic(), back.userProperties()));
        assertArrayEquals(new byte[] {1, 2}, back.correlationData());
        assertEquals(h("30 07 0003 612f62 6869"), hex(MqttEncoder.publish(ALLOC, V311, "a/b", hi, 0, false, false, 0,
                props)), "none in 3.1.1");
    }

    @Test
    void publishHeaderOnlyIsPublishWithoutThePayload() {
        byte[] payload = new byte[20_000]; // a three-byte remaining length
        new java.util.Random(1).nextBytes(payload);
        for (int version : new int[] {V311, V5}) {
            List<UserProperty> props = List.of(new UserProperty("n", "ü"));
            ByteBuf whole = MqttEncoder.publish(ALLOC, version, "x/y", payload, 1, false, false, 77, props);
            ByteBuf header = MqttEncoder.publishHeaderOnly(ALLOC, version, "x/y", payload.length, 1, false, false, 77,
                    props);
            assertEquals(header.readableBytes(), header.capacity(), "the header's exact size");
            assertEquals(whole.readableBytes() - payload.length, header.readableBytes());
            ByteBuf joined = Unpooled.wrappedBuffer(header, Unpooled.wrappedBuffer(payload));
            assertEquals(ByteBufUtil.hexDump(whole), ByteBufUtil.hexDump(joined));
            whole.release();
            joined.release();
        }
    }

    @Test
    void publishEncodesWhatTheDecoderReadsBack() throws MqttMalformed {
        for (int size : new int[] {0, 100, 300, 20_000, 3_000_000}) { // remaining lengths of 1 to 4 bytes
            byte[] payload = new byte[size];
            new java.util.Random(size).nextBytes(payload);
            for (int version : new int[] {V311, V5}) {
                for (int qos = 0; qos <= 2; qos++) {
                    List<UserProperty> props = version == V5 ? List.of(new UserProperty("a", "b"),
                            new UserProperty("a", "c")) : List.of();
                    ByteBuf b = MqttEncoder.publish(ALLOC, version, "push/dev-1", payload, qos, qos == 2, qos > 0, 42,
                            props);
                    try {
                        assertEquals(b.readableBytes(), b.capacity());
                        int n = MqttDecoder.packetLength(b, MqttDecoder.MAX_PACKET_BYTES);
                        assertEquals(b.readableBytes(), n);
                        PacketAssert.assertPacketEquals(new Publish("push/dev-1", payload, qos, qos == 2, qos > 0,
                                qos > 0 ? 42 : 0, 0, -1, props, null, null, null, null),
                                MqttDecoder.decode(b, n, version));
                    } finally {
                        b.release();
                    }
                }
            }
        }
    }

    @Test
    void argumentsNoClientCouldRead() {
        byte[] p = new byte[1];
        List<UserProperty> none = List.of();
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.publish(ALLOC, V311, "t", p, 3, false, false, 1,
                none), "QoS 3");
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.publish(ALLOC, V311, "t", p, 1, false, false, 0,
                none), "packet id 0");
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.publish(ALLOC, V311, "t", p, 2, false, false,
                65_536, none), "packet id 65536");
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.publish(ALLOC, V311, "a/#", p, 0, false, false,
                0, none), "wildcard");
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.publish(ALLOC, V311, "", p, 0, false, false, 0,
                none), "empty topic");
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.publish(ALLOC, V311, "t".repeat(65_536), p, 0,
                false, false, 0, none), "a topic of 65536 bytes");
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.publish(ALLOC, V5, "t", p, 0, false, false, 0,
                List.of(new UserProperty("k", "é".repeat(40_000)))), "a property of 80000 bytes");
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.publishHeaderOnly(ALLOC, V311, "t",
                268_435_453, 0, false, false, 0, none), "longer than MQTT can frame");
        ByteBuf largest = MqttEncoder.publishHeaderOnly(ALLOC, V311, "t", 268_435_452, 0, false, false, 0, none);
        assertEquals(h("30 ffffff7f 0001 74"), hex(largest), "the largest PUBLISH");
    }

    @Test
    void longReasonStringsAreCutAtACharacter() throws MqttMalformed {
        assertEquals(65_535, MqttEncoder.cut("a".repeat(70_000)).length());
        assertEquals(21_845, MqttEncoder.cut("€".repeat(30_000)).length());
        String emoji = MqttEncoder.cut("😀".repeat(20_000));
        assertEquals(2 * 16_383, emoji.length(), "65532 bytes: one more would not fit");
        String mixed = MqttEncoder.cut("a" + "😀".repeat(20_000));
        assertEquals(65_533, mixed.getBytes(StandardCharsets.UTF_8).length);
        assertEquals("short", MqttEncoder.cut("short"));
        // a DISCONNECT with such a reason string is one a decoder reads back
        ByteBuf b = MqttEncoder.disconnect(ALLOC, V5, 0x8B, "😀".repeat(20_000), null);
        try {
            Disconnect d = (Disconnect) MqttDecoder.decode(b, MqttDecoder.packetLength(b, 1 << 20), V5);
            assertEquals(emoji, d.reasonString());
        } finally {
            b.release();
        }
    }

    @Test
    void connackCodesFor311() {
        assertEquals(0, MqttReasonCodes.connackCodeFor(V311, MqttReasonCodes.SUCCESS));
        assertEquals(1, MqttReasonCodes.connackCodeFor(V311, MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION));
        assertEquals(2, MqttReasonCodes.connackCodeFor(V311, MqttReasonCodes.CLIENT_ID_NOT_VALID));
        assertEquals(4, MqttReasonCodes.connackCodeFor(V311, MqttReasonCodes.BAD_USERNAME_OR_PASSWORD));
        assertEquals(5, MqttReasonCodes.connackCodeFor(V311, MqttReasonCodes.NOT_AUTHORIZED));
        assertEquals(5, MqttReasonCodes.connackCodeFor(V31, MqttReasonCodes.BANNED));
        assertEquals(5, MqttReasonCodes.connackCodeFor(V311, MqttReasonCodes.TOPIC_NAME_INVALID), "a refused will topic");
        for (int other : new int[] {0x80, 0x81, 0x88, 0x89, 0x8B, 0x97, 0x9C, 0x9D, 0x9F}) {
            assertEquals(3, MqttReasonCodes.connackCodeFor(V311, other), Integer.toHexString(other));
        }
        assertEquals(0x8B, MqttReasonCodes.connackCodeFor(V5, MqttReasonCodes.SERVER_SHUTTING_DOWN));
        assertArrayEquals(new int[] {0, 1, 2}, new int[] {MqttReasonCodes.GRANTED_QOS_0, MqttReasonCodes.GRANTED_QOS_1,
            MqttReasonCodes.GRANTED_QOS_2});
    }
}
