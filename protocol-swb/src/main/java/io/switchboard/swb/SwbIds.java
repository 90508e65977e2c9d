package io.switchboard.swb;

import io.netty.buffer.ByteBuf;

/**
 * SWB/1 identifiers: 1-128 bytes of {@code [A-Za-z0-9._:@-]} other than {@code .} and {@code ..} (client ids,
 * topics, send ids; an id is a path segment in the backend API, where those two mean something else). Stateless.
 */
public final class SwbIds {
    public static final int MAX_LENGTH = 128;
    private static final boolean[] ALLOWED = new boolean[128];

    static {
        for (char c = 'a'; c <= 'z'; c++) {
            ALLOWED[c] = true;
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            ALLOWED[c] = true;
        }
        for (char c = '0'; c <= '9'; c++) {
            ALLOWED[c] = true;
        }
        for (char c : "._:@-".toCharArray()) {
            ALLOWED[c] = true;
        }
    }

    private SwbIds() {}

    public static boolean isValid(CharSequence s) {
        int n = s.length();
        if (n < 1 || n > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 128 || !ALLOWED[c]) {
                return false;
            }
        }
        return !(s.charAt(0) == '.' && (n == 1 || (n == 2 && s.charAt(1) == '.')));
    }

    /** Whether bytes {@code [from, to)} of {@code buf} form a valid identifier. */
    public static boolean isValid(ByteBuf buf, int from, int to) {
        int n = to - from;
        if (n < 1 || n > MAX_LENGTH) {
            return false;
        }
        for (int i = from; i < to; i++) {
            byte b = buf.getByte(i);
            if (b < 0 || !ALLOWED[b]) {
                return false;
            }
        }
        return !(buf.getByte(from) == '.' && (n == 1 || (n == 2 && buf.getByte(from + 1) == '.')));
    }
}
