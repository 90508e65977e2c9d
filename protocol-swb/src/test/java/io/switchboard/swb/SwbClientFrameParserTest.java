package io.switchboard.swb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SwbClientFrameParserTest {
    private static final int MAX_LINE = 64;
    private static final int MAX_PAYLOAD = 10;

    /** Every client frame once (extra spaces and words where a server tolerates them). */
    private static final String ALL_FRAMES = "HELLO alice v=1 token=t.k.n resume=5 hb=30 zone=eu\n"
            + "ACK 7\r\n"
            + "PING\n"
            + "\n"
            + "PONG extra\n"
            + "SEND s-1 5\nhe\r\nl\n"
            + "SEND s-2 0\n\n"
            + "SUB  news\n"
            + "UNSUB news\n"
            + "FROB x\n"
            + "SUB t/2\n"
            + "AUTH  n.e.w extra\n"
            + "AUTH\n"
            + "BYE\n";
    private static final List<String> ALL_FRAMES_PARSED = List.of(
            "HELLO alice token=t.k.n resume=5 hb=30",
            "ACK 7",
            "PING",
            "PONG",
            "SEND s-1 he\r\nl",
            "SEND s-2 ",
            "SUB news",
            "UNSUB news",
            "ERR 400 unknown command FROB",
            "ERR 400 SUB topic must be 1-128 characters of [A-Za-z0-9._:@-]",
            "AUTH n.e.w",
            "ERR 400 AUTH needs a token",
            "BYE");

    private final SwbClientFrameParser parser = new SwbClientFrameParser(MAX_LINE, MAX_PAYLOAD);
    private final TrackingAllocator alloc = new TrackingAllocator();
    private final ClientFrameRecorder rec = new ClientFrameRecorder();

    @AfterEach
    void allBuffersReleased() {
        alloc.assertAllReleased();
    }

    @Test
    void shouldParseEveryClientFrameFromOneBuffer() {
        assertEquals(ALL_FRAMES_PARSED, parseWhole(ALL_FRAMES));
    }

    @Test
    void shouldParseTheSameFramesWhereverTheInputIsSplit() {
        byte[] bytes = ascii(ALL_FRAMES);
        for (int split = 1; split < bytes.length; split++) {
            ClientFrameRecorder r = new ClientFrameRecorder();
            ByteBuf rest = Feeder.feed(parser, r, alloc, bytes, new int[] {split}, () -> r.malformed);
            assertEquals(ALL_FRAMES_PARSED, r.events, "split at byte " + split);
            assertNull(rest, "split at byte " + split);
        }
    }

    @Test
    void shouldParseFramesFedOneByteAtATimeKeepingNoBufferBetweenFrames() {
        byte[] bytes = ascii(ALL_FRAMES);
        int[] cuts = new int[bytes.length - 1];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = i + 1;
        }
        assertNull(Feeder.feed(parser, rec, alloc, bytes, cuts, () -> rec.malformed));
        assertEquals(ALL_FRAMES_PARSED, rec.events);
    }

    @Test
    void shouldParseManyFramesMergedInOneBuffer() {
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            expected.addAll(ALL_FRAMES_PARSED);
        }
        assertEquals(expected, parseWhole(String.join("", Collections.nCopies(200, ALL_FRAMES))));
    }

    @Test
    void shouldKeepNoBufferOnceAFrameIsComplete() {
        ByteBuf first = alloc.chunk("SEND s 3\nab");
        ByteBuf pending = parser.feed(alloc, null, first, rec);
        first.release();
        assertNotNull(pending, "the incomplete SEND is kept");
        assertEquals(1, pending.refCnt());
        assertEquals(List.of(), rec.events);

        ByteBuf second = alloc.chunk("c\nPING\n");
        ByteBuf after = parser.feed(alloc, pending, second, rec);
        second.release();
        assertNull(after);
        assertEquals(0, pending.refCnt(), "released once the frame is complete");
        assertEquals(List.of("SEND s abc", "PING"), rec.events);
        assertEquals(1, alloc.allocations() - 2, "one buffer for the incomplete frame, besides the two chunks");
    }

    @Test
    void shouldAllocateNothingForWholeFrames() {
        ByteBuf in = alloc.chunk("PING\nACK 1\n");
        assertNull(parser.feed(alloc, null, in, rec));
        in.release();
        assertEquals(1, alloc.allocations(), "only the input chunk");
    }

    @Test
    void shouldAcceptControlLineOfExactlyTheLimitIncludingLf() {
        String line = "HELLO a x=" + "y".repeat(MAX_LINE - 11); // + LF = MAX_LINE bytes
        assertEquals(List.of("HELLO a token=null resume=-1 hb=-1"), parseWhole(line + "\n"));
    }

    @Test
    void shouldReportLineLongerThanTheLimitBeforeItsLfArrives() {
        byte[] bytes = ascii("HELLO " + "x".repeat(MAX_LINE));
        int[] cuts = {MAX_LINE - 1, MAX_LINE + 2};
        ByteBuf rest = Feeder.feed(parser, rec, alloc, bytes, cuts, () -> rec.malformed);
        assertNull(rest);
        assertEquals(List.of("MALFORMED 413 control line longer than 64 bytes"), rec.events);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "' HELLO a'                  | MALFORMED 400 line starts with a space",
            "HELLO bad/id                | MALFORMED 400 client id must be 1-128 characters of [A-Za-z0-9._:@-]",
            "HELLO                       | MALFORMED 400 client id must be 1-128 characters of [A-Za-z0-9._:@-]",
            "HELLO .                     | MALFORMED 400 client id must be 1-128 characters of [A-Za-z0-9._:@-]",
            "HELLO ..                    | MALFORMED 400 client id must be 1-128 characters of [A-Za-z0-9._:@-]",
            "HELLO a v=2                 | MALFORMED 400 unsupported protocol version (this server speaks v=1)",
            "HELLO a v=                  | MALFORMED 400 unsupported protocol version (this server speaks v=1)",
            "HELLO a resume=x            | MALFORMED 400 resume must be a non-negative number",
            "HELLO a resume=-1           | MALFORMED 400 resume must be a non-negative number",
            "HELLO a hb=1234567890123456789 | MALFORMED 400 hb must be a non-negative number",
            "HELLO a junk                | MALFORMED 400 HELLO options are key=value",
            "ACK                         | MALFORMED 400 ACK needs a sequence number",
            "ACK nope                    | MALFORMED 400 ACK needs a sequence number",
            "ACK -1                      | MALFORMED 400 ACK needs a sequence number",
            "ACK 1234567890123456789     | MALFORMED 400 ACK needs a sequence number",
            "SEND s1                     | MALFORMED 400 SEND needs <id> <length>",
            "SEND s/1 2                  | MALFORMED 400 SEND needs <id> <length>",
            "SEND s1 x                   | MALFORMED 400 SEND needs <id> <length>",
            "SEND s1 11                  | MALFORMED 413 payload larger than 10 bytes",
    })
    void shouldReportMalformedFramesWithTheServersCodeAndText(String line, String expected) {
        assertEquals(List.of(expected), parseWhole(line + "\nPING\n"), "nothing after the malformed frame");
    }

    @Test
    void shouldReportPayloadNotFollowedByLf() {
        assertEquals(List.of("MALFORMED 400 payload not followed by LF"), parseWhole("SEND s1 2\nabX"));
        ClientFrameRecorder r = new ClientFrameRecorder();
        assertEquals(List.of("MALFORMED 400 payload not followed by LF"), parseWhole("SEND s1 2\nab\r\n", r));
    }

    @Test
    void shouldAnswerTheLongestUnknownVerbShortAndPrintable() {
        String verb = "\u0001X" + "Y".repeat(40);
        assertEquals(List.of("ERR 400 unknown command ?X" + "Y".repeat(30), "PING"), parseWhole(verb + " a\nPING\n"));
    }

    @Test
    void shouldWaitForASendPayloadWithoutConsumingItsLine() {
        ByteBuf in = alloc.chunk("SEND s1 5\nhel");
        parser.parse(in, rec);
        assertEquals(0, in.readerIndex(), "the frame stays unread until it is whole");
        assertEquals(List.of(), rec.events);
        in.writeBytes(ascii("lo\n"));
        parser.parse(in, rec);
        assertFalse(in.isReadable());
        assertEquals(List.of("SEND s1 hello"), rec.events);
        in.release();
    }

    @Test
    void shouldPauseAfterAFrameAndResumeWithTheRemainingBytes() {
        rec.pauseAfterHello = true;
        ByteBuf in = alloc.chunk("HELLO a\nPING\nACK 1\n");
        ByteBuf pending = parser.feed(alloc, null, in, rec);
        in.release();
        assertEquals(List.of("HELLO a token=null resume=-1 hb=-1"), rec.events);
        assertNotNull(pending);
        assertEquals("PING\nACK 1\n", pending.toString(StandardCharsets.US_ASCII));

        ByteBuf more = alloc.chunk("PONG\n");
        pending = parser.feed(alloc, pending, more, rec); // still paused: appended, not parsed
        more.release();
        assertEquals(1, rec.events.size());

        rec.paused = false;
        parser.parse(pending, rec);
        assertFalse(pending.isReadable());
        pending.release();
        assertEquals(List.of("HELLO a token=null resume=-1 hb=-1", "PING", "ACK 1", "PONG"), rec.events);
    }

    @Test
    void shouldSkipARefusedLineAndGoOn() {
        rec.accept = v -> v != SwbVerb.HELLO;
        assertEquals(List.of("REFUSED HELLO", "PING", "REFUSED HELLO", "ACK 3"),
                parseWhole("HELLO a\nPING\nHELLO bad/id\nACK 3\n"));
    }

    @Test
    void shouldAskBeforeCheckingArgumentsOrWaitingForAPayload() {
        ClientFrameRecorder closing = new ClientFrameRecorder();
        closing.accept = v -> {
            closing.paused = true; // a server refusing a frame in this state closes the connection
            return false;
        };
        ByteBuf in = alloc.chunk("SEND s/x 5\nab");
        parser.parse(in, closing);
        assertEquals(List.of("REFUSED SEND"), closing.events);
        assertEquals("ab", in.toString(StandardCharsets.US_ASCII), "the line is skipped, the payload left");
        in.release();
    }

    @Test
    void shouldIgnoreBlankLinesAndCr() {
        assertEquals(List.of("PING", "ACK 2"), parseWhole("\r\n\nPING\r\n\r\nACK 2\r\n"));
    }

    @Test
    void shouldConsumeTheBufferAfterMalformedInput() {
        ByteBuf in = alloc.chunk("ACK x\nPING\n");
        parser.parse(in, rec);
        assertFalse(in.isReadable());
        in.release();
        assertTrue(rec.malformed);
    }

    private List<String> parseWhole(String input) {
        return parseWhole(input, rec);
    }

    private List<String> parseWhole(String input, ClientFrameRecorder r) {
        Feeder.parseWhole(parser, r, alloc, input.getBytes(StandardCharsets.ISO_8859_1));
        return r.events;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
