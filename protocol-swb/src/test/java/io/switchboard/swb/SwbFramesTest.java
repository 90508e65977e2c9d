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
}
