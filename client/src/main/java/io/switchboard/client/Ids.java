package io.switchboard.client;

/** SWB/1 identifier and token rules, checked before anything reaches the wire. Stateless. */
final class Ids {
    /** Identifiers (client ids, topics, send ids) are 1–128 bytes of {@code [A-Za-z0-9._:@-]}. */
    static final int MAX_ID_BYTES = 128;

    private Ids() {
    }

    static boolean isValidId(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_ID_BYTES) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static String requireId(String s, String what) {
        if (!isValidId(s)) {
            throw new IllegalArgumentException(what + " must be 1-128 characters of [A-Za-z0-9._:@-], got: "
                    + (s == null ? "null" : '"' + s + '"'));
        }
        return s;
    }

    /** A token is one word of visible ASCII: it travels inside the space-separated HELLO line. */
    static String requireToken(String token) {
        if (token == null) {
            return null;
        }
        if (token.isEmpty()) {
            throw new IllegalArgumentException("token must not be empty (pass null for no token)");
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new IllegalArgumentException("token must be visible ASCII without spaces (character " + i + ")");
            }
        }
        return token;
    }
}
