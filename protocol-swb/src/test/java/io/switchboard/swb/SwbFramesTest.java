package io.switchboard.swb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SwbFramesTest {

    @Test
    void shouldWriteHelloWithOnlyTheAttributesGiven() {
        assertEquals("HELLO alice v=1", SwbFrames.helloLine("alice", null, -1, -1));
        assertEquals("HELLO alice v=1 token=t.k.n resume=0 hb=30", SwbFrames.helloLine("alice", "t.k.n", 0, 30));
        assertEquals("HELLO alice v=1 resume=17 hb=0", SwbFrames.helloLine("alice", null, 17, 0));
    }

    @Test
    void shouldWriteSendWithLengthPayloadAndLf() {
        ByteBuf buf = SwbFrames.send(ByteBufAllocator.DEFAULT, "s-1", new byte[] {'h', '\n', 'i'});
        try {
            assertEquals("SEND s-1 3\nh\ni\n", buf.toString(StandardCharsets.ISO_8859_1));
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldWriteAckAndOneWordCommands() {
        ByteBuf ack = SwbFrames.ack(ByteBufAllocator.DEFAULT, 123_456_789_012L);
        ByteBuf sub = SwbFrames.line(ByteBufAllocator.DEFAULT, "SUB", "news");
        ByteBuf bye = SwbFrames.line(ByteBufAllocator.DEFAULT, "BYE");
        try {
            assertEquals("ACK 123456789012\n", ack.toString(StandardCharsets.US_ASCII));
            assertEquals("SUB news\n", sub.toString(StandardCharsets.US_ASCII));
            assertEquals("BYE\n", bye.toString(StandardCharsets.US_ASCII));
        } finally {
            ack.release();
            sub.release();
            bye.release();
        }
    }

    @Test
    void shouldWriteNumbersAsLongToStringDoes() {
        long[] values = {0, 1, 9, 10, 99, 100, 12_345, 999_999_999_999L, 1_000_000_000_000L, Long.MAX_VALUE,
            Long.MAX_VALUE - 1, -1, -10, -987_654_321L, Long.MIN_VALUE, Long.MIN_VALUE + 1};
        java.util.Random random = new java.util.Random(15);
        ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(4); // grows: the digits are set past the writer index
        try {
            for (int i = 0; i < values.length + 10_000; i++) {
                long v = i < values.length ? values[i] : random.nextLong() >> random.nextInt(64);
                buf.clear().writeByte('>');
                SwbFrames.writeLong(buf, v);
                buf.writeByte('<');
                assertEquals(">" + v + "<", buf.toString(StandardCharsets.US_ASCII));
            }
        } finally {
            buf.release();
        }
    }
}
