package io.switchboard.protocol.ws;

import io.netty.buffer.ByteBuf;

/**
 * UTF-8 checked as it streams by (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), for text
 * messages whose bytes arrive in pieces split anywhere: the state between pieces is one int, 0 at a character's
 * boundary. Stateless itself; the int belongs to its caller.
 */
final class Utf8Check {
    /** A state no byte leads out of: the bytes are not UTF-8. */
    static final int INVALID = -1;

    private Utf8Check() {
    }

    /**
     * The state after the readable bytes of {@code b} (not read), from {@code state}: 0 after a whole character,
     * {@link #INVALID} once a byte cannot be UTF-8, else what the next bytes must be (encoded as
     * {@code bytesStillDue | lowestNextByte << 8 | highestNextByte << 16}).
     */
    static int scan(int state, ByteBuf b) {
        for (int i = b.readerIndex(), end = b.writerIndex(); i < end && state != INVALID; i++) {
            state = next(state, b.getByte(i) & 0xff);
        }
        return state;
    }

    static int next(int state, int c) {
        if (state == 0) {
            if (c < 0x80) {
                return 0;
            }
            if (c >= 0xc2 && c <= 0xdf) {
                return due(1, 0x80, 0xbf);
            }
            if (c >= 0xe0 && c <= 0xef) {
                return due(2, c == 0xe0 ? 0xa0 : 0x80, c == 0xed ? 0x9f : 0xbf); // E0: no overlong; ED: no surrogate
            }
            if (c >= 0xf0 && c <= 0xf4) {
                return due(3, c == 0xf0 ? 0x90 : 0x80, c == 0xf4 ? 0x8f : 0xbf); // F0: no overlong; F4: <= U+10FFFF
            }
            return INVALID; // a continuation byte first, C0/C1 (overlong) or F5-FF
        }
        if (c < ((state >>> 8) & 0xff) || c > (state >>> 16)) {
            return INVALID;
        }
        int left = (state & 0xff) - 1;
        return left == 0 ? 0 : due(left, 0x80, 0xbf);
    }

    private static int due(int bytes, int lowest, int highest) {
        return bytes | lowest << 8 | highest << 16;
    }
}
