package io.switchboard.mqtt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.Test;

class MqttEncoderTest {
    private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    private static String hex(ByteBuf b) {
        try {
            return ByteBufUtil.hexDump(b);
        } finally {
            b.release();
        }
    }

    private static String h(String spaced) {
        return spaced.replace(" ", "");
    }

    @Test
    void everyServerPacketAsTheSpecifiesIt() {
        assertEquals("20020000", hex(MqttEncoder.connack(ALLOC, 4, false, 0, null)));
        assertEquals("20020105", hex(MqttEncoder.connack(ALLOC, 4, true, 5, null)));
        assertEquals("2003000000", hex(MqttEncoder.connack(ALLOC, 5, false, 0, null)));
        assertEquals(h("20 09 00 00 06 21 0080 13 003c"), hex(MqttEncoder.connack(ALLOC, 5, false, 0,
                ConnackProperties.none().withReceiveMaximum(128).withServerKeepAliveSec(60))));
        assertEquals("d000", hex(MqttEncoder.pingresp(ALLOC)));
        assertEquals("40020001", hex(MqttEncoder.puback(ALLOC, 4, 1, 0)));
        assertEquals("40020001", hex(MqttEncoder.puback(ALLOC, 5, 1, 0)));
        assertEquals("4003000110", hex(MqttEncoder.puback(ALLOC, 5, 1, 0x10)));
        assertEquals("50020009", hex(MqttEncoder.pubrec(ALLOC, 4, 9, 0)));
        assertEquals("62020009", hex(MqttEncoder.pubrel(ALLOC, 4, 9, 0)));
        assertEquals("7003000992", hex(MqttEncoder.pubcomp(ALLOC, 5, 9, 0x92)));
        assertEquals(h("90 04 0007 01 80"), hex(MqttEncoder.suback(ALLOC, 4, 7, new int[] {1, 0x80})));
        assertEquals(h("90 05 0007 00 01 8f"), hex(MqttEncoder.suback(ALLOC, 5, 7, new int[] {1, 0x8F})));
        assertEquals(h("b0 02 0007"), hex(MqttEncoder.unsuback(ALLOC, 4, 7, new int[] {0})));
        assertEquals(h("b0 04 0007 00 11"), hex(MqttEncoder.unsuback(ALLOC, 5, 7, new int[] {0x11})));
        assertEquals(h("e0 06 8e 04 1f 0001 78"), hex(MqttEncoder.disconnect(ALLOC, 5, 0x8E, "x", null)));
        assertThrows(IllegalArgumentException.class, () -> MqttEncoder.disconnect(ALLOC, 4, 0x8E, null, null));
    }

    @Test
    void publishEncodesWhatTheDecoderReadsBack() throws MqttMalformed {
        byte[] payload = new byte[300]; // a two-byte remaining length
        for (int version : new int[] {4, 5}) {
            for (int qos = 0; qos <= 2; qos++) {
                ByteBuf b = MqttEncoder.publish(ALLOC, version, "push/dev-1", payload, qos, false, qos > 0, 42,
                        version == 5 ? List.of(new UserProperty("a", "b")) : List.of());
                try {
                    int n = MqttDecoder.packetLength(b, 1 << 20);
                    assertEquals(b.readableBytes(), n);
                    Publish p = (Publish) MqttDecoder.decode(b, n, version);
                    assertEquals("push/dev-1", p.topic());
                    assertEquals(qos, p.qos());
                    assertEquals(qos > 0 ? 42 : 0, p.packetId());
                    assertArrayEquals(payload, p.payload());
                    assertEquals(version == 5 ? List.of(new UserProperty("a", "b")) : List.of(),
                            p.userProperties());
                } finally {
                    b.release();
                }
            }
        }
    }

    @Test
    void connackCodesFor311() {
        assertEquals(1, MqttReasonCodes.connackCodeFor(4, MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION));
        assertEquals(2, MqttReasonCodes.connackCodeFor(4, MqttReasonCodes.CLIENT_ID_NOT_VALID));
        assertEquals(4, MqttReasonCodes.connackCodeFor(4, MqttReasonCodes.BAD_USERNAME_OR_PASSWORD));
        assertEquals(5, MqttReasonCodes.connackCodeFor(4, MqttReasonCodes.NOT_AUTHORIZED));
        assertEquals(3, MqttReasonCodes.connackCodeFor(4, MqttReasonCodes.SERVER_SHUTTING_DOWN));
        assertEquals(0x8B, MqttReasonCodes.connackCodeFor(5, MqttReasonCodes.SERVER_SHUTTING_DOWN));
    }
}
