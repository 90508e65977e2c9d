package io.switchboard.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * MQTT's UTF-8 rule for strings (MQTT 3.1.1 section 1.5.3, MQTT 5 section 1.5.4): well-formed UTF-8 as RFC 3629 has it
 * (no overlong forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF) and no U+0000. Checked in place, so a
 * valid string is decoded once and nothing is allocated for an invalid one. Stateless.
 */
final class Utf8 {
    /** Stops at the first byte that is not ASCII 1..127. */
    private static final ByteProcessor PLAIN_ASCII = b -> b > 0;

    private Utf8() {
    }

    /** Null when {@code [from, to)} of {@code b} is a valid MQTT string; else what is wrong with it. */
    static String check(ByteBuf b, int from, int to) {
        int i = from == to ? -1 : b.forEachByte(from, to - from, PLAIN_ASCII);
        if (i < 0) {
            return null;
        }
        while (i < to) {
            int c = b.getByte(i) & 0xFF;
            if (c < 0x80) {
                if (c == 0) {
                    return "contains U+0000";
                }
                i++;
                continue;
            }
            int more;
            int min = 0x80;
            int max = 0xBF; // the range of the second byte; the others are always 80..BF
            if (c >= 0xC2 && c <= 0xDF) {
                more = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                more = 2;
                if (c == 0xE0) {
                    min = 0xA0; // else overlong
                } else if (c == 0xED) {
                    max = 0x9F; // else a surrogate
                }
            } else if (c >= 0xF0 && c <= 0xF4) {
                more = 3;
                if (c == 0xF0) {
                    min = 0x90; // else overlong
                } else if (c == 0xF4) {
                    max = 0x8F; // else above U+10FFFF
                }
            } else {
                return "is not well-formed UTF-8";
            }
            if (to - i <= more) {
                return "is not well-formed UTF-8";
            }
            int second = b.getByte(i + 1) & 0xFF;
            if (second < min || second > max) {
                return "is not well-formed UTF-8";
            }
            for (int k = 2; k <= more; k++) {
                if ((b.getByte(i + k) & 0xC0) != 0x80) {
                    return "is not well-formed UTF-8";
                }
            }
            i += 1 + more;
        }
        return null;
    }
}
