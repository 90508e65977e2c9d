package io.switchboard.bench.protocol;

import static io.switchboard.bench.protocol.Wire.ascii;
import static io.switchboard.bench.protocol.Wire.bytes;
import static io.switchboard.bench.protocol.Wire.concat;
import static io.switchboard.bench.protocol.Wire.feed;
import static io.switchboard.bench.protocol.Wire.feedByteByByte;
import static io.switchboard.bench.protocol.Wire.writtenBytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The bench's WebSocket client framing in front of an SWB/1 bench connection. */
class WebSocketClientFramingTest {
    private static final byte[] SWITCHING = ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n");

    private final RecordingEnv env = new RecordingEnv();
    private final EmbeddedChannel ch = new EmbeddedChannel(false, false);

    WebSocketClientFramingTest() throws Exception {
        ch.config().setAllocator(new UnpooledByteBufAllocator(true));
        ch.pipeline().addLast(new WebSocketClientFraming("/swb", null),
                new SwbBenchConnection(env, "c1", 30, System.nanoTime(), 1, 0));
        ch.register();
    }

    @AfterEach
    void tearDown() {
        Wire.closeAndAssertReleased(ch);
    }

    /** A server frame: unmasked, {@code firstByte} = FIN and opcode. */
    private static byte[] frame(int firstByte, byte[] payload) {
        if (payload.length < 126) {
            return concat(bytes(firstByte, payload.length), payload);
        }
        return concat(bytes(firstByte, 126, payload.length >>> 8, payload.length & 0xff), payload);
    }

    /** The client's frames in {@code wire}, unmasked: opcode then payload text. */
    private static List<String> clientFrames(byte[] wire) {
        List<String> frames = new ArrayList<>();
        int i = 0;
        while (i < wire.length) {
            int opcode = wire[i] & 0x0f;
            assertTrue((wire[i + 1] & 0x80) != 0, "client frames are masked");
            int length = wire[i + 1] & 0x7f;
            i += 2;
            if (length == 126) {
                length = ((wire[i] & 0xff) << 8) | (wire[i + 1] & 0xff);
                i += 2;
            }
            byte[] key = {wire[i], wire[i + 1], wire[i + 2], wire[i + 3]};
            i += 4;
            byte[] payload = new byte[length];
            for (int k = 0; k < length; k++) {
                payload[k] = (byte) (wire[i + k] ^ key[k & 3]);
            }
            i += length;
            frames.add(opcode + " " + new String(payload, StandardCharsets.ISO_8859_1));
        }
        return frames;
    }

    @Test
    void upgradesThenUnwrapsFramesSplitAnywhereAndMasksWhatItSends() {
        String request = new String(writtenBytes(ch), StandardCharsets.US_ASCII);
        assertTrue(request.startsWith("GET /swb HTTP/1.1\r\n"), request);
        assertTrue(request.contains("Sec-WebSocket-Key: ") && request.contains("Sec-WebSocket-Version: 13"));
        assertEquals(0, env.open(), "the SWB/1 connection starts only after the 101");

        feedByteByByte(ch, SWITCHING);
        assertEquals(1, env.open());
        List<String> hello = clientFrames(writtenBytes(ch));
        assertEquals(1, hello.size());
        assertTrue(hello.get(0).startsWith("2 HELLO c1"), hello.toString());

        // WELCOME in a fragmented message with a ping between the fragments, fed one byte at a time.
        byte[] welcome = ascii("WELCOME c1 v=1 hb=30 seq=0\n");
        feedByteByByte(ch, concat(frame(0x02, java.util.Arrays.copyOfRange(welcome, 0, 7)), frame(0x89, ascii("hi")),
                frame(0x80, java.util.Arrays.copyOfRange(welcome, 7, welcome.length))));
        assertEquals(1, env.established());
        assertTrue(clientFrames(writtenBytes(ch)).contains("10 hi"), "the ping is answered with its payload");

        // A push of 200 bytes (two-byte length), in one read with the next frame's first byte.
        String payload = "x".repeat(200);
        byte[] msg = ascii("MSG 7 200\n" + payload + "\n");
        byte[] next = frame(0x82, ascii("PING\n"));
        feed(ch, concat(frame(0x82, msg), java.util.Arrays.copyOfRange(next, 0, 1)));
        feed(ch, java.util.Arrays.copyOfRange(next, 1, next.length));
        assertEquals(1, env.messages());
        List<String> answers = clientFrames(writtenBytes(ch));
        assertTrue(answers.contains("2 ACK 7\n") && answers.contains("2 PONG\n"), answers.toString());
    }

    @Test
    void aCloseFromTheServerIsEchoedAndEndsTheConnection() {
        writtenBytes(ch);
        feed(ch, SWITCHING);
        writtenBytes(ch);
        feed(ch, frame(0x88, bytes(0x03, 0xE9))); // 1001
        assertEquals(List.of("8 " + new String(bytes(0x03, 0xE9), StandardCharsets.ISO_8859_1)),
                clientFrames(writtenBytes(ch)));
        ch.runPendingTasks();
        assertFalse(ch.isOpen());
    }

    @Test
    void aRefusedUpgradeIsAnError() {
        writtenBytes(ch);
        feed(ch, ascii("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
        assertEquals(0, env.open());
        assertTrue(env.errors().stream().anyMatch(e -> e.contains("403")), env.errors().toString());
    }
}
