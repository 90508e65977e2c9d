package io.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrameDecoderTest {
    private static final int MAX_PAYLOAD = 1_000;

    /** Every server frame once, with the fields each one should decode to. */
    private static final String ALL_FRAMES = """
            WELCOME alice v=1 hb=60 seq=7 node=n1
            MSG 8 5
            hello
            PING
            PONG
            SENT s-1
            NACK s-2 503 sink unavailable
            OK SUB news
            ERR 403 SUB secret not allowed
            BYE 503 draining retry=1500
            BYE 408 idle
            """;
    private static final List<String> ALL_FRAMES_DECODED = List.of(
            "WELCOME alice hb=60 seq=7 node=n1",
            "MSG 8 hello",
            "PING",
            "PONG",
            "SENT s-1",
            "NACK s-2 503 sink unavailable",
            "OK SUB news",
            "ERR 403 SUB secret not allowed",
            "BYE 503 draining retry=1500",
            "BYE 408 idle retry=-1");

    @Test
    void shouldDecodeEveryServerFrameFromOneMergedBuffer() {
        EmbeddedChannel ch = channel();
        ByteBuf in = buf(ALL_FRAMES);
        ch.writeInbound(in);
        assertEquals(ALL_FRAMES_DECODED, drain(ch));
        assertEquals(0, in.refCnt());
        assertTrue(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void shouldDecodeFramesFedOneByteAtATime() {
        EmbeddedChannel ch = channel();
        byte[] bytes = ALL_FRAMES.getBytes(StandardCharsets.UTF_8);
        List<ByteBuf> inputs = new ArrayList<>();
        for (byte b : bytes) {
            ByteBuf in = ByteBufAllocator.DEFAULT.buffer(1).writeByte(b);
            inputs.add(in);
            ch.writeInbound(in);
        }
        assertEquals(ALL_FRAMES_DECODED, drain(ch));
        inputs.forEach(in -> assertEquals(0, in.refCnt()));
        assertFalse(ch.finish());
    }

    @Test
    void shouldDecodeTheSameFramesWhateverTheSplitPoint() {
        byte[] bytes = ALL_FRAMES.getBytes(StandardCharsets.UTF_8);
        for (int split = 1; split < bytes.length; split++) {
            EmbeddedChannel ch = channel();
            ByteBuf first = ByteBufAllocator.DEFAULT.buffer().writeBytes(bytes, 0, split);
            ByteBuf second = ByteBufAllocator.DEFAULT.buffer().writeBytes(bytes, split, bytes.length - split);
            ch.writeInbound(first);
            ch.writeInbound(second);
            assertEquals(ALL_FRAMES_DECODED, drain(ch), "split at byte " + split);
            assertEquals(0, first.refCnt() + second.refCnt());
            assertFalse(ch.finish());
        }
    }

    @Test
    void shouldIgnoreCrBeforeLfAndBlankLines() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(buf("\r\nPING\r\n\nSENT a\r\n"));
        assertEquals(List.of("PING", "SENT a"), drain(ch));
    }

    @Test
    void shouldKeepPayloadBytesOpaque() {
        EmbeddedChannel ch = channel();
        byte[] payload = {'a', '\r', '\n', 0, (byte) 0xff, '\n'};
        ByteBuf in = ByteBufAllocator.DEFAULT.buffer();
        in.writeBytes("MSG 1 6\n".getBytes(StandardCharsets.US_ASCII)).writeBytes(payload).writeByte('\n');
        in.writeBytes("MSG 2 0\n\n".getBytes(StandardCharsets.US_ASCII));
        ch.writeInbound(in);
        Frame.Msg first = assertInstanceOf(Frame.Msg.class, ch.readInbound());
        Frame.Msg second = assertInstanceOf(Frame.Msg.class, ch.readInbound());
        assertEquals(1, first.seq());
        assertArrayEquals(payload, first.payload());
        assertEquals(2, second.seq());
        assertEquals(0, second.payload().length);
        assertNull(ch.readInbound());
    }

    @Test
    void shouldAcceptPayloadOfExactlyTheLimit() {
        EmbeddedChannel ch = channel();
        String payload = "x".repeat(MAX_PAYLOAD);
        ch.writeInbound(buf(FakeServer.Peer.msg(3, payload)));
        assertEquals(List.of("MSG 3 " + payload), drain(ch));
        assertTrue(ch.isOpen());
    }

    @Test
    void shouldAcceptControlLineOf1024BytesIncludingLf() {
        EmbeddedChannel ch = channel();
        String line = "ERR 400 " + "x".repeat(FrameDecoder.MAX_LINE_BYTES - 9); // + LF = 1,024 bytes
        ch.writeInbound(buf(line + "\n"));
        assertEquals(List.of(line), drain(ch));
        assertTrue(ch.isOpen());
    }

    @Test
    void shouldAcceptControlLineOf1024BytesWhenFragmented() {
        EmbeddedChannel ch = channel();
        String line = "ERR 400 " + "x".repeat(FrameDecoder.MAX_LINE_BYTES - 9);
        ch.writeInbound(buf(line.substring(0, 700)));
        ch.writeInbound(buf(line.substring(700)));
        ch.writeInbound(buf("\n"));
        assertEquals(List.of(line), drain(ch));
    }

    @Test
    void shouldRejectControlLineLongerThan1024BytesBeforeItsLfArrives() {
        EmbeddedChannel ch = channel();
        ByteBuf first = buf("ERR 400 " + "x".repeat(600));
        ByteBuf second = buf("y".repeat(FrameDecoder.MAX_LINE_BYTES - 608)); // 1,024 bytes, none of them LF
        ch.writeInbound(first);
        assertNull(ch.readInbound());
        ch.writeInbound(second);
        Frame.Malformed m = assertInstanceOf(Frame.Malformed.class, ch.readInbound());
        assertTrue(m.reason().contains("longer than 1024"), m.reason());
        assertFalse(ch.isOpen());
        assertEquals(0, first.refCnt() + second.refCnt());
    }

    @Test
    void shouldIgnoreUnknownWelcomeAttributesAndMissingNode() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(buf("WELCOME bob v=1 seq=0 hb=0 zone=eu\n"));
        assertEquals(List.of("WELCOME bob hb=0 seq=0 node=null"), drain(ch));
    }

    @Test
    void shouldDecodeByeWithoutTextOrCode() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(buf("BYE 503 retry=20\nBYE\n"));
        assertEquals(List.of("BYE 503  retry=20", "BYE 0  retry=-1"), drain(ch));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "HELLO alice\n",                       // a client verb
            "msg 1 1\nx\n",                        // verbs are upper case
            "FOO\n",
            "MSG\n",
            "MSG 0 1\nx\n",                        // seq starts at 1
            "MSG -1 1\nx\n",
            "MSG 1\n",
            "MSG 1 x\n",
            "MSG 1 2 3\n",
            "MSG 1  2\n",
            "MSG 1 99999999999999999999\n",        // 20 digits
            "MSG 1 3\nabcX",                       // payload not followed by LF
            "MSG 1 3\nabc\r\n",                    // ... not even CR LF
            "WELCOME alice v=1 hb=60\n",           // no seq
            "WELCOME alice v=1 seq=1\n",           // no hb
            "WELCOME alice v=2 hb=60 seq=1\n",
            "WELCOME al/ce v=1 hb=60 seq=1\n",     // not an identifier
            "WELCOME alice v=1 hb=-5 seq=1\n",
            "WELCOME alice v=1 hb=60 seq=1 junk\n",
            "SENT\n",
            "NACK s1\n",
            "NACK s1 abc text\n",
            "OK\n",
            "ERR\n",
            "ERR x12 bad\n",
            "ERR 4000 too long a code\n",
            "BYE abc\n",
            "BYE 503 draining retry=soon\n",
    })
    void shouldCloseAndReportMalformedInputOnce(String input) {
        EmbeddedChannel ch = channel();
        ByteBuf in = buf(input + "PING\n"); // whatever follows is discarded
        ch.writeInbound(in);
        assertInstanceOf(Frame.Malformed.class, ch.readInbound(), input);
        assertNull(ch.readInbound(), "nothing after the malformed frame");
        assertFalse(ch.isOpen());
        assertEquals(0, in.refCnt());
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldSkipAMessageLargerThanTheLimitAndDecodeWhatFollows() {
        String big = "y".repeat(MAX_PAYLOAD + 1);
        EmbeddedChannel whole = channel();
        ByteBuf in = buf("MSG 5 " + big.length() + "\n" + big + "\nMSG 6 2\nok\nPING\n");
        whole.writeInbound(in);
        assertEquals(List.of("SKIPPED 5 1001", "MSG 6 ok", "PING"), drain(whole));
        assertTrue(whole.isOpen());
        assertEquals(0, in.refCnt());
        assertFalse(whole.finish());
        // Split anywhere: the line alone, then the payload in pieces across reads, the next frame in the last one.
        byte[] bytes = ("PING\nMSG 5 " + big.length() + "\n" + big + "\nMSG 6 2\nok\n").getBytes(StandardCharsets.UTF_8);
        for (int cut : new int[] {1, 7, 11, 12, 500, bytes.length - 9, bytes.length - 8, bytes.length - 1}) {
            EmbeddedChannel ch = channel();
            ByteBuf first = ByteBufAllocator.DEFAULT.buffer().writeBytes(bytes, 0, cut);
            ByteBuf second = ByteBufAllocator.DEFAULT.buffer().writeBytes(bytes, cut, bytes.length - cut);
            ch.writeInbound(first);
            ch.writeInbound(second);
            assertEquals(List.of("PING", "SKIPPED 5 1001", "MSG 6 ok"), drain(ch), "cut at " + cut);
            assertEquals(0, first.refCnt() + second.refCnt());
            assertFalse(ch.finish());
        }
    }

    @Test
    void aSkippedMessageMustEndWithLfAndOneBeyondAnyServersLimitIsMalformed() {
        String big = "y".repeat(MAX_PAYLOAD + 1);
        for (int cut : new int[] {0, 12, 500}) { // whole, and split before and inside the payload
            EmbeddedChannel ch = channel();
            byte[] bytes = ("MSG 5 " + big.length() + "\n" + big + "XPING\n").getBytes(StandardCharsets.UTF_8);
            if (cut > 0) {
                ch.writeInbound(ByteBufAllocator.DEFAULT.buffer().writeBytes(bytes, 0, cut));
            }
            ch.writeInbound(ByteBufAllocator.DEFAULT.buffer().writeBytes(bytes, cut, bytes.length - cut));
            List<String> frames = drain(ch);
            assertEquals(2, frames.size(), frames.toString());
            assertEquals("SKIPPED 5 1001", frames.get(0));
            assertTrue(frames.get(1).startsWith("MALFORMED MSG payload not followed by LF"), frames.toString());
            assertFalse(ch.isOpen(), "cut at " + cut);
            ch.finishAndReleaseAll();
        }
        EmbeddedChannel huge = channel();
        huge.writeInbound(buf("MSG 1 999999999999999999\nPING\n"));
        List<String> frames = drain(huge);
        assertEquals(1, frames.size(), frames.toString());
        assertTrue(frames.get(0).startsWith("MALFORMED"), "not skipped: it would swallow the connection for ever");
        assertFalse(huge.isOpen());
        huge.finishAndReleaseAll();
    }

    @Test
    void shouldDiscardAndReleaseInputArrivingAfterMalformedFrameUntilClosed() {
        // Hold the close back, as a slow close would: the decoder must discard what still arrives meanwhile.
        AtomicInteger closeRequests = new AtomicInteger();
        ChannelOutboundHandlerAdapter holdClose = new ChannelOutboundHandlerAdapter() {
            @Override
            public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
                closeRequests.incrementAndGet();
            }
        };
        EmbeddedChannel ch = new EmbeddedChannel(holdClose, new FrameDecoder(MAX_PAYLOAD));
        ByteBuf bad = buf("NOPE\n");
        ByteBuf later = buf("PING\nMSG 1 1\nx\n");
        ch.writeInbound(bad);
        assertInstanceOf(Frame.Malformed.class, ch.readInbound());
        assertEquals(1, closeRequests.get());
        ch.writeInbound(later);
        assertNull(ch.readInbound());
        assertEquals(0, bad.refCnt() + later.refCnt());
        assertEquals(1, closeRequests.get(), "one report, one close");
    }

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new FrameDecoder(MAX_PAYLOAD));
    }

    private static ByteBuf buf(String s) {
        return ByteBufAllocator.DEFAULT.buffer().writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> drain(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            out.add(render((Frame) o));
        }
        return out;
    }

    private static String render(Frame f) {
        return switch (f) {
            case Frame.WelcomeFrame w -> "WELCOME " + w.welcome().clientId() + " hb=" + w.welcome().heartbeatSeconds()
                    + " seq=" + w.welcome().seq() + " node=" + w.welcome().node();
            case Frame.Msg m -> "MSG " + m.seq() + " " + new String(m.payload(), StandardCharsets.UTF_8);
            case Frame.Skipped k -> "SKIPPED " + k.seq() + " " + k.bytes();
            case Frame.Signal s -> s.name();
            case Frame.Sent s -> "SENT " + s.id();
            case Frame.Nack n -> "NACK " + n.id() + " " + n.code() + " " + n.text();
            case Frame.Ok ok -> "OK " + ok.verb() + " " + ok.subject();
            case Frame.Err e -> "ERR " + e.code() + " " + e.text();
            case Frame.Bye b -> "BYE " + b.code() + " " + b.text() + " retry=" + b.retryMs();
            case Frame.Malformed m -> "MALFORMED " + m.reason();
        };
    }
}
