package io.switchboard.mqtt;

import static io.switchboard.mqtt.ClientPackets.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link MqttDecoder#packetLength}: whole packets only, every remaining-length size, and the limits. */
class MqttPacketLengthTest {
    private static final int MAX = 1 << 24;

    @Test
    void incompleteAtEveryCutPoint() throws MqttMalformed {
        for (byte[] p : List.of(MqttDecoderTest.MOSQUITTO_PUB_311, MqttDecoderTest.MOSQUITTO_SUB_5,
                MqttDecoderTest.MOSQUITTO_PUB_5_WILL, MqttDecoderTest.MOSQUITTO_PUBLISH_5, hex("c0 00"))) {
            for (int cut = 0; cut < p.length; cut++) {
                ByteBuf b = Unpooled.wrappedBuffer(p, 0, cut);
                assertEquals(-1, MqttDecoder.packetLength(b, MAX), "cut at " + cut);
                assertEquals(0, b.readerIndex());
            }
            assertEquals(p.length, MqttDecoder.packetLength(Unpooled.wrappedBuffer(p), MAX));
            // more bytes after it (the next packet) do not change its length
            ByteBuf two = Unpooled.wrappedBuffer(p, p);
            assertEquals(p.length, MqttDecoder.packetLength(two, MAX));
            assertEquals(0, two.readerIndex());
        }
    }

    @Test
    void remainingLengthsOfOneToFourBytesAtTheirBoundaries() throws MqttMalformed {
        int[][] boundaries = {{0, 1}, {127, 1}, {128, 2}, {16_383, 2}, {16_384, 3}, {2_097_151, 3}, {2_097_152, 4}};
        for (int[] c : boundaries) {
            int remaining = c[0];
            int header = 1 + c[1];
            byte[] p = new byte[header + remaining];
            ByteBuf b = Unpooled.wrappedBuffer(p).writerIndex(0);
            b.writeByte(remaining == 0 ? 0xC0 : 0x30); // PINGREQ, else a QoS 0 PUBLISH on "t"
            MqttEncoder.varint(b, remaining);
            assertEquals(header, b.writerIndex(), remaining + " takes " + c[1] + " bytes");
            if (remaining > 0) {
                b.writeShort(1).writeByte('t');
            }
            assertEquals(-1, MqttDecoder.packetLength(Unpooled.wrappedBuffer(p, 0, p.length - 1), MAX),
                    remaining + ": one byte short");
            ByteBuf whole = Unpooled.wrappedBuffer(p);
            assertEquals(p.length, MqttDecoder.packetLength(whole, MAX), remaining + ": whole");
            MqttPacket packet = MqttDecoder.decode(whole, p.length, MqttVersion.V311);
            if (remaining > 0) {
                assertEquals(remaining - 3, ((Publish) packet).payload().length);
            }
        }
    }

    @Test
    void theLargestRemainingLength() throws MqttMalformed {
        assertEquals(268_435_460, MqttDecoder.MAX_PACKET_BYTES);
        ByteBuf b = Unpooled.wrappedBuffer(hex("30 ff ff ff 7f 0001 74"));
        assertEquals(-1, MqttDecoder.packetLength(b, MqttDecoder.MAX_PACKET_BYTES));
        MqttMalformed e = assertThrows(MqttMalformed.class,
                () -> MqttDecoder.packetLength(b, MqttDecoder.MAX_PACKET_BYTES - 1));
        assertEquals(MqttReasonCodes.PACKET_TOO_LARGE, e.reasonCode());
        assertTrue(e.getMessage().contains("268435460"), e.getMessage());
    }

    @Test
    void aFiveByteRemainingLengthIsMalformed() throws MqttMalformed {
        assertEquals(-1, MqttDecoder.packetLength(Unpooled.wrappedBuffer(hex("30 ff ff ff")), MAX),
                "the fourth byte decides");
        for (String bad : List.of("30 ff ff ff ff 01", "30 80 80 80 80", "30 80 80 80 80 00")) {
            assertEquals(MqttReasonCodes.MALFORMED_PACKET, assertThrows(MqttMalformed.class,
                    () -> MqttDecoder.packetLength(Unpooled.wrappedBuffer(hex(bad)), MAX)).reasonCode(), bad);
        }
    }

    @Test
    void overTheMaximumIsTooLargeAsSoonAsTheLengthIsKnown() throws MqttMalformed {
        assertEquals(MqttReasonCodes.PACKET_TOO_LARGE, assertThrows(MqttMalformed.class,
                () -> MqttDecoder.packetLength(Unpooled.wrappedBuffer(hex("30 ff 7f")), 1000)).reasonCode());
        byte[] p = hex("30 05 0001 74 6869");
        assertEquals(7, MqttDecoder.packetLength(Unpooled.wrappedBuffer(p), 7), "exactly the maximum");
        assertEquals(MqttReasonCodes.PACKET_TOO_LARGE, assertThrows(MqttMalformed.class,
                () -> MqttDecoder.packetLength(Unpooled.wrappedBuffer(p), 6)).reasonCode());
    }
}
