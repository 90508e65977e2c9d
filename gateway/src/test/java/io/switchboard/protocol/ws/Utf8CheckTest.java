package io.switchboard.protocol.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The streaming check agrees with the JDK's strict decoder, wherever the bytes are split. */
class Utf8CheckTest {
    private static boolean jdkSaysUtf8(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** Whole, and split at {@code cut}: valid only when it ends at a character's boundary. */
    private static void agrees(byte[] b, int cut) {
        boolean expected = jdkSaysUtf8(b);
        assertEquals(expected, Utf8Check.scan(0, Unpooled.wrappedBuffer(b)) == 0, () -> hex(b));
        int state = Utf8Check.scan(0, Unpooled.wrappedBuffer(b, 0, cut));
        if (state != Utf8Check.INVALID) {
            state = Utf8Check.scan(state, Unpooled.wrappedBuffer(b, cut, b.length - cut));
        }
        assertEquals(expected, state == 0, () -> hex(b) + " split at " + cut);
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x ", x));
        }
        return sb.toString();
    }

    @Test
    void everySequenceOfUpToThreeBytesAndRandomLongerOnesAgreeWithTheJdk() {
        for (int a = 0; a < 256; a++) {
            agrees(new byte[] {(byte) a}, 0);
            for (int b = 0; b < 256; b++) {
                agrees(new byte[] {(byte) a, (byte) b}, 1);
            }
        }
        SplittableRandom random = new SplittableRandom(7);
        int[] leads = {0x41, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x80, 0xc0};
        for (int i = 0; i < 200_000; i++) {
            byte[] b = new byte[1 + random.nextInt(6)];
            for (int j = 0; j < b.length; j++) {
                // Mostly continuation bytes after a lead, so that the edges (overlong, surrogates, > U+10FFFF) are hit.
                b[j] = (byte) (j == 0 || random.nextInt(4) == 0 ? leads[random.nextInt(leads.length)]
                        : 0x80 + random.nextInt(64));
            }
            agrees(b, random.nextInt(b.length + 1));
        }
    }

    @Test
    void textFromEveryPlaneIsUtf8() {
        String text = "ascii é € 𝄞 \uD83D\uDE00 \uFFFD \u0000";
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= b.length; cut++) {
            agrees(b, cut);
        }
        assertEquals(Utf8Check.INVALID, Utf8Check.scan(0, Unpooled.wrappedBuffer(new byte[] {(byte) 0xed, (byte) 0xa0,
                (byte) 0x80})), "a surrogate (CESU-8) is not UTF-8");
    }
}
