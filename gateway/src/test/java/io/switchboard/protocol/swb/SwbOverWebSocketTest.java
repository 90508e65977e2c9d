package io.switchboard.protocol.swb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SWB/1 over the WebSocket framing on an EmbeddedChannel, where the test decides when the channel is writable. */
class SwbOverWebSocketTest {
    private final SwbRig rig = new SwbRig().start();

    @AfterEach
    void close() {
        rig.close();
    }

    /** A masked client frame (FIN set) of {@code opcode} carrying {@code payload} (under 126 bytes). */
    private static byte[] clientFrame(int opcode, byte[] payload) {
        byte[] f = new byte[6 + payload.length];
        f[0] = (byte) (0x80 | opcode);
        f[1] = (byte) (0x80 | payload.length);
        byte[] key = {0x11, 0x22, 0x33, 0x44};
        System.arraycopy(key, 0, f, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            f[6 + i] = (byte) (payload[i] ^ key[i & 3]);
        }
        return f;
    }

    private static EmbeddedChannel upgraded(SwbRig rig) {
        EmbeddedChannel ch = rig.connectOverWebSocket();
        SwbRig.send(ch, "GET /swb HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        assertTrue(SwbRig.out(ch).startsWith("HTTP/1.1 101"), "upgraded");
        return ch;
    }

    @Test
    void theDataOfManySmallFramesInOneReadIsHandedOnOnce() {
        EmbeddedChannel ch = upgraded(rig);
        SwbRig.send(ch, clientFrame(2, "HELLO tiny\n".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(SwbRig.out(ch).contains("WELCOME tiny"));
        int[] reads = {0};
        ch.pipeline().addAfter(ch.pipeline().context(io.switchboard.protocol.ws.WebSocketFraming.class).name(),
                "count", new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                        reads[0]++;
                        ctx.fireChannelRead(msg);
                    }
                });
        byte[] line = "SUB news\n".getBytes(StandardCharsets.US_ASCII);
        java.io.ByteArrayOutputStream frames = new java.io.ByteArrayOutputStream();
        for (byte b : line) { // one byte per frame, all in one read
            frames.writeBytes(clientFrame(2, new byte[] {b}));
        }
        SwbRig.send(ch, frames.toByteArray());
        assertEquals(1, reads[0], "one hand-on for the read, not one per frame (each reparsed the unfinished line)");
        assertTrue(SwbRig.out(ch).contains("OK SUB news"), "and the line is read whole");
    }

    @Test
    void aPingThatCameWhileTheChannelWasNotWritableIsAnsweredOnceItIs() {
        EmbeddedChannel ch = upgraded(rig);
        SwbRig.send(ch, clientFrame(2, "HELLO pinger\n".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(SwbRig.out(ch).contains("WELCOME pinger"));
        ch.unsafe().outboundBuffer().setUserDefinedWritability(1, false); // as when the client's window is full
        SwbRig.send(ch, clientFrame(9, "old".getBytes(StandardCharsets.US_ASCII)));
        SwbRig.send(ch, clientFrame(9, "latest".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("", SwbRig.out(ch), "nothing more is written while the channel is not writable");
        ch.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        ch.runPendingTasks();
        ByteBuf pong = ch.readOutbound();
        try {
            assertTrue(pong != null, "a pong once writable");
            assertEquals(0x8A, pong.getUnsignedByte(0), "a pong frame");
            assertEquals("latest", pong.toString(2, pong.getUnsignedByte(1), StandardCharsets.US_ASCII),
                    "answering the latest ping");
        } finally {
            if (pong != null) {
                pong.release();
            }
        }
        assertEquals("", SwbRig.out(ch), "one pong");
    }
}
