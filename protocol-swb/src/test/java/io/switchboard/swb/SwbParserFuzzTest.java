package io.switchboard.swb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Property test on generated input (seeded, so a failure replays): whatever the bytes, the parsers throw nothing,
 * leave no buffer unreleased (the build runs Netty's PARANOID leak detection too), and deliver the same frames
 * however the input is cut into chunks and wherever a handler pauses.
 */
class SwbParserFuzzTest {
    private static final long SEED = 0x5b1_c0dec_5eedL;
    private static final int ITERATIONS = 2_000;
    private static final int MAX_LINE = 48;
    private static final int MAX_PAYLOAD = 16;

    private static final List<String> CLIENT_PIECES = List.of("HELLO ", "ACK ", "PING", "PONG", "SEND ", "SUB ",
            "UNSUB ", "BYE", "FROB", "v=1", "v=", "token=", "resume=", "hb=", "a", "id-1", "t/2", "1", "0", "3", "12",
            "99999999999999999999", " ", "  ", "\n", "\n", "\r\n", "\r", "=");
    private static final List<String> CLIENT_FRAMES = List.of("HELLO a v=1 hb=5 resume=3 token=x\n", "ACK 12\n",
            "PING\n", "PONG\n", "SEND s 3\nabc\n", "SEND s 0\n\n", "SUB t\n", "UNSUB t\n", "BYE\n");
    private static final List<String> SERVER_PIECES = List.of("WELCOME ", "MSG ", "PING", "PONG", "SENT ", "NACK ",
            "OK ", "ERR ", "BYE ", "HELLO", "v=1", "v=2", "hb=", "seq=", "node=", "retry=", "a", "s-1", "1", "0", "2",
            "403", "99999999999999999999", " ", "  ", "\n", "\n", "\r\n", "\r", "=");
    private static final List<String> SERVER_FRAMES = List.of("WELCOME a v=1 hb=5 seq=1 node=n\n", "MSG 3 2\nhi\n",
            "MSG 4 0\n\n", "PING\n", "PONG\n", "SENT s\n", "NACK s 503 x y\n", "OK SUB t\n", "ERR 400 x\n",
            "BYE 503 d retry=5\n", "BYE\n");

    private final Random random = new Random(SEED);
    private final TrackingAllocator alloc = new TrackingAllocator();

    @AfterEach
    void allBuffersReleased() {
        alloc.assertAllReleased();
    }

    @Test
    void clientFramesParseTheSameHoweverSplitOrPausedAndNothingLeaks() {
        SwbClientFrameParser parser = new SwbClientFrameParser(MAX_LINE, MAX_PAYLOAD);
        checkSameHoweverSplit(CLIENT_PIECES, CLIENT_FRAMES, input -> {
            ClientFrameRecorder whole = new ClientFrameRecorder();
            Feeder.parseWhole(parser, whole, alloc, input);
            Random pauses = new Random(random.nextLong());
            ClientFrameRecorder pieces = new ClientFrameRecorder() {
                @Override
                public boolean paused() {
                    return paused && pauses.nextInt(4) == 0;
                }
            };
            pieces.paused = true; // pauses at random while the input arrives
            ByteBuf rest = Feeder.feed(parser, pieces, alloc, input, cuts(input.length), () -> pieces.malformed);
            if (rest != null) {
                pieces.paused = false; // and resumes for good at the end, as a server does once the session is there
                parser.parse(rest, pieces);
                rest.release();
            }
            return new FrameRecorder[] {whole, pieces};
        });
    }

    @Test
    void serverFramesParseTheSameHoweverSplitAndNothingLeaks() {
        SwbServerFrameParser parser = new SwbServerFrameParser(MAX_LINE, MAX_PAYLOAD);
        checkSameHoweverSplit(SERVER_PIECES, SERVER_FRAMES, input -> {
            ServerFrameRecorder whole = new ServerFrameRecorder();
            Feeder.parseWhole(parser, whole, alloc, input);
            ServerFrameRecorder pieces = new ServerFrameRecorder();
            Feeder.release(Feeder.feed(parser, pieces, alloc, input, cuts(input.length), () -> pieces.malformed));
            return new FrameRecorder[] {whole, pieces};
        });
    }

    /** {@code run} parses an input whole and in pieces: both must see the same frames. */
    private void checkSameHoweverSplit(List<String> pieces, List<String> frames,
                                       Function<byte[], FrameRecorder[]> run) {
        int delivered = 0;
        int malformed = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] input = generate(pieces, frames);
            FrameRecorder[] wholeAndPieces = run.apply(input);
            assertEquals(wholeAndPieces[0].events, wholeAndPieces[1].events, () -> "input " + printable(input));
            delivered += wholeAndPieces[0].events.size();
            malformed += wholeAndPieces[0].malformed ? 1 : 0;
        }
        assertTrue(delivered > ITERATIONS && malformed > ITERATIONS / 10 && malformed < ITERATIONS,
                "the generator should reach both whole frames and malformed ones: " + delivered + ", " + malformed);
    }

    @Test
    void randomBytesNeverThrowNorLeak() {
        SwbClientFrameParser clientFrames = new SwbClientFrameParser(MAX_LINE, MAX_PAYLOAD);
        SwbServerFrameParser serverFrames = new SwbServerFrameParser(MAX_LINE, MAX_PAYLOAD);
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] input = new byte[random.nextInt(200)];
            random.nextBytes(input);
            ClientFrameRecorder c = new ClientFrameRecorder();
            Feeder.release(Feeder.feed(clientFrames, c, alloc, input, cuts(input.length), () -> c.malformed));
            ServerFrameRecorder s = new ServerFrameRecorder();
            Feeder.release(Feeder.feed(serverFrames, s, alloc, input, cuts(input.length), () -> s.malformed));
        }
    }

    /** Pieces of frames, whole frames and stray bytes, in random order. */
    private byte[] generate(List<String> pieces, List<String> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = random.nextInt(30);
        for (int i = 0; i < n; i++) {
            int kind = random.nextInt(10);
            if (kind < 5) {
                out.writeBytes(pieces.get(random.nextInt(pieces.size())).getBytes(StandardCharsets.UTF_8));
            } else if (kind < 9) {
                out.writeBytes(frames.get(random.nextInt(frames.size())).getBytes(StandardCharsets.UTF_8));
            } else {
                out.write(random.nextInt(256));
            }
        }
        return out.toByteArray();
    }

    /** Up to 6 cut points in {@code [1, length)}, ascending. */
    private int[] cuts(int length) {
        if (length < 2) {
            return new int[0];
        }
        int[] cuts = new int[random.nextInt(7)];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = 1 + random.nextInt(length - 1);
        }
        Arrays.sort(cuts);
        return cuts;
    }

    private static String printable(byte[] input) {
        StringBuilder sb = new StringBuilder();
        for (byte b : input) {
            sb.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff));
        }
        return sb.toString();
    }
}
