package io.switchboard.api;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** The API's bearer token ({@code --api-token}), or none. Immutable; safe from any thread. */
final class BearerToken {
    private final byte[] token;

    BearerToken(String token) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    boolean required() {
        return token != null;
    }

    /** Whether {@code headers} carry the token (constant-time comparison); always true when none is set. */
    boolean admits(HttpHeaders headers) {
        if (token == null) {
            return true;
        }
        String h = headers.get(HttpHeaderNames.AUTHORIZATION);
        // credentials = auth-scheme 1*SP token68, the scheme case-insensitive (RFC 9110 11.4, RFC 6750 2.1)
        String scheme = "Bearer ";
        if (h == null || !h.regionMatches(true, 0, scheme, 0, scheme.length())) {
            return false;
        }
        int start = scheme.length();
        while (start < h.length() && h.charAt(start) == ' ') {
            start++;
        }
        return MessageDigest.isEqual(token, h.substring(start).getBytes(StandardCharsets.UTF_8));
    }
}
