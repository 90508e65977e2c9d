package io.switchboard.client;

import io.switchboard.swb.SwbIds;

/** SWB/1 identifier and token rules, checked before anything reaches the wire. Stateless. */
final class Ids {
    private Ids() {
    }

    /** Identifiers (client ids, topics, send ids): {@link SwbIds}, the one rule the server applies too. */
    static boolean isValidId(String s) {
        return s != null && SwbIds.isValid(s);
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
