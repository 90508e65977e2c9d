package io.switchboard.swb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SwbServerFrameParserTest {
    private static final int MAX_PAYLOAD = 1_000;

    /** Every server frame once. */
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
    private static final List<String> ALL_FRAMES_PARSED = List.of(
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

    private final SwbServerFrameParser parser =
            new SwbServerFrameParser(SwbParser.DEFAULT_MAX_LINE_BYTES, MAX_PAYLOAD);
    private final TrackingAllocator alloc = new TrackingAllocator();
    private final ServerFrameRecorder rec = new ServerFrameRecorder();

    @AfterEach
    void allBuffersReleased() {
        alloc.assertAllReleased();
    }

    @Test
    void shouldParseEveryServerFrameFromOneBuffer() {
        assertEquals(ALL_FRAMES_PARSED, parseWhole(ALL_FRAMES));
    }

    @Test
    void shouldParseTheSameFramesWhereverTheInputIsSplit() {
        byte[] bytes = ALL_FRAMES.getBytes(StandardCharsets.UTF_8);
        for (int split = 1; split < bytes.length; split++) {
            ServerFrameRecorder r = new ServerFrameRecorder();
            ByteBuf rest = Feeder.feed(parser, r, alloc, bytes, new int[] {split}, () -> r.malformed);
            assertEquals(ALL_FRAMES_PARSED, r.events, "split at byte " + split);
            assertNull(rest, "split at byte " + split);
        }
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
    void shouldKeepPayloadBytesOpaqueAndHandThemOverInPlace() {
        byte[] payload = {'a', '\r', '\n', 0, (byte) 0xff, '\n'};
        ByteBuf in = alloc.buffer();
        in.writeBytes(ascii("MSG 1 6\n")).writeBytes(payload).writeByte('\n').writeBytes(ascii("MSG 2 0\n\n"));
        List<String> seen = new ArrayList<>();
        parser.parse(in, new ServerFrameRecorder() {
            @Override
            public void onMsg(long seq, ByteBuf buf, int index, int length) {
                seen.add(seq + ":" + (buf == in) + ":" + index + ":" + length);
            }
        });
        assertEquals(List.of("1:true:8:6", "2:true:23:0"), seen, "the payload is read where it lies");
        assertFalse(in.isReadable());
        in.release();
    }

    @Test
    void shouldKeepNoBufferOnceAFrameIsComplete() {
        ByteBuf first = alloc.chunk("MSG 3 5\nhel");
        ByteBuf pending = parser.feed(alloc, null, first, rec);
        first.release();
        assertNotNull(pending);
        ByteBuf second = alloc.chunk("lo\n");
        assertNull(parser.feed(alloc, pending, second, rec));
        second.release();
        assertEquals(0, pending.refCnt());
        assertEquals(List.of("MSG 3 hello"), rec.events);
    }

    @Test
    void shouldAcceptPayloadOfExactlyTheLimitAndControlLineOfExactlyTheLimit() {
        String payload = "x".repeat(MAX_PAYLOAD);
        String line = "ERR 400 " + "x".repeat(SwbParser.DEFAULT_MAX_LINE_BYTES - 9); // + LF = 1,024 bytes
        assertEquals(List.of("MSG 3 " + payload, line),
                parseWhole("MSG 3 " + MAX_PAYLOAD + "\n" + payload + "\n" + line + "\n"));
    }

    @Test
    void shouldReportLineLongerThanTheLimitBeforeItsLfArrives() {
        byte[] bytes = ascii("ERR 400 " + "x".repeat(SwbParser.DEFAULT_MAX_LINE_BYTES));
        ByteBuf rest = Feeder.feed(parser, rec, alloc, bytes, new int[] {608, 1024}, () -> rec.malformed);
        assertNull(rest);
        assertEquals(List.of("MALFORMED null control line longer than 1024 bytes"), rec.events);
    }

    @Test
    void shouldIgnoreUnknownWelcomeAttributesAndMissingNode() {
        assertEquals(List.of("WELCOME bob hb=0 seq=0 node=null"), parseWhole("WELCOME bob v=1 seq=0 hb=0 zone=eu\n"));
    }

    @Test
    void shouldParseByeWithoutTextOrCode() {
        assertEquals(List.of("BYE 503  retry=20", "BYE 0  retry=-1"), parseWhole("BYE 503 retry=20\nBYE\n"));
    }

    @Test
    void shouldIgnoreCrBeforeLfAndBlankLines() {
        assertEquals(List.of("PING", "SENT a"), parseWhole("\r\nPING\r\n\nSENT a\r\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "HELLO alice                      | UNKNOWN",
            "msg 1 1                          | UNKNOWN",
            "FOO                              | UNKNOWN",
            "MSG                              | MSG",
            "MSG 0 1                          | MSG",
            "MSG -1 1                         | MSG",
            "MSG 1                            | MSG",
            "MSG 1 x                          | MSG",
            "MSG 1 2 3                        | MSG",
            "MSG 1  2                         | MSG",
            "MSG 1 1001                       | MSG",
            "MSG 1 99999999999999999999       | MSG",
            "MSG 1 3\\nabcX                   | MSG",
            "MSG 1 3\\nabc\\r\\n              | MSG",
            "WELCOME alice v=1 hb=60          | WELCOME",
            "WELCOME alice v=1 seq=1          | WELCOME",
            "WELCOME alice v=2 hb=60 seq=1    | WELCOME",
            "WELCOME al/ce v=1 hb=60 seq=1    | WELCOME",
            "WELCOME alice v=1 hb=-5 seq=1    | WELCOME",
            "WELCOME alice v=1 hb=60 seq=1 junk | WELCOME",
            "SENT                             | SENT",
            "NACK s1                          | NACK",
            "NACK s1 abc text                 | NACK",
            "OK                               | OK",
            "ERR                              | ERR",
            "ERR x12 bad                      | ERR",
            "ERR 4000 too long a code         | ERR",
            "BYE abc                          | BYE",
            "BYE 503 draining retry=soon      | BYE",
    })
    void shouldReportMalformedInputOnceWithItsVerb(String input, SwbVerb verb) {
        String unescaped = input.replace("\\n", "\n").replace("\\r", "\r");
        List<String> events = parseWhole(unescaped + "\nPING\n"); // whatever follows is discarded
        assertEquals(1, events.size(), events.toString());
        assertEquals("MALFORMED " + verb, events.get(0).substring(0, 10 + verb.name().length()), events.get(0));
    }

    @Test
    void shouldExplainWhatIsWrongWithAMsg() {
        assertEquals(List.of("MALFORMED MSG MSG 1: payload of 1001 bytes exceeds the limit of 1000"),
                parseWhole("MSG 1 1001\n"));
        ServerFrameRecorder r = new ServerFrameRecorder();
        assertEquals(List.of("MALFORMED MSG MSG 1: payload not followed by LF"), parseWhole("MSG 1 1\nxy", r));
        ServerFrameRecorder r2 = new ServerFrameRecorder();
        assertEquals(List.of("MALFORMED UNKNOWN not an SWB/1 server frame: \"FO?\""), parseWhole("FO\u0001\n", r2));
    }

    private List<String> parseWhole(String input) {
        return parseWhole(input, rec);
    }

    private List<String> parseWhole(String input, ServerFrameRecorder r) {
        Feeder.parseWhole(parser, r, alloc, input.getBytes(StandardCharsets.UTF_8));
        return r.events;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
