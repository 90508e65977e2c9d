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

    /** A masked client frame of {@code opcode}, FIN as given. */
    private static byte[] clientFrame(int opcode, boolean fin, byte[] payload) {
        byte[] f = clientFrame(opcode, payload);
        f[0] = (byte) ((fin ? 0x80 : 0) | opcode);
        return f;
    }

    /** The code of the close frame among what the server wrote (ISO-8859-1 text of its frames), or -1. */
    private static int closeCode(String out) {
        int i = out.indexOf('\u0088');
        return i < 0 || out.length() < i + 4 ? -1 : out.charAt(i + 2) << 8 | out.charAt(i + 3);
    }

    @Test
    void aTextMessageThatIsNotUtf8EndsTheConnectionWith1007() {
        EmbeddedChannel ch = upgraded(rig);
        SwbRig.send(ch, clientFrame(1, "HELLO texter\n".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(SwbRig.out(ch).contains("WELCOME texter"));
        SwbRig.send(ch, clientFrame(1, new byte[] {'P', 'I', 'N', 'G', (byte) 0xc0, (byte) 0x80, '\n'}));
        assertEquals(1007, closeCode(SwbRig.out(ch)), "invalid frame payload data (RFC 6455 8.1)");
        assertTrue(!ch.isActive(), "and closed");
    }

    @Test
    void aTextMessageEndingInsideACharacterEndsTheConnectionWith1007() {
        EmbeddedChannel ch = upgraded(rig);
        SwbRig.send(ch, clientFrame(1, "HELLO texter\n".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(SwbRig.out(ch).contains("WELCOME texter"));
        SwbRig.send(ch, clientFrame(1, new byte[] {'P', 'I', 'N', 'G', '\n', (byte) 0xe2, (byte) 0x82}));
        assertEquals(1007, closeCode(SwbRig.out(ch)));
    }

    @Test
    void aCharacterSplitAcrossFragmentsOfATextMessageIsUtf8() {
        EmbeddedChannel ch = upgraded(rig);
        SwbRig.send(ch, clientFrame(1, "HELLO texter\n".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(SwbRig.out(ch).contains("WELCOME texter"));
        byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8);
        byte[] head = ("SEND texter " + euro.length + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] first = java.util.Arrays.copyOf(head, head.length + 1);
        first[head.length] = euro[0];
        SwbRig.send(ch, clientFrame(1, false, first));
        SwbRig.send(ch, clientFrame(0, false, new byte[] {euro[1]}));
        SwbRig.send(ch, clientFrame(0, true, new byte[] {euro[2], '\n', 'P', 'I', 'N', 'G', '\n'}));
        String out = SwbRig.out(ch);
        assertEquals(-1, closeCode(out), out);
        assertTrue(out.contains("PONG"), out);
    }
}
