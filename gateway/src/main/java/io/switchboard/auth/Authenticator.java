package io.switchboard.auth;

/**
 * Decides whether a client may connect under the id it claimed in {@code HELLO}.
 *
 * <p>Called on the connection's event loop during the handshake, so an implementation must not block
 * (no network or disk I/O; pure CPU work such as verifying a signature is fine). Thread-safe.
 */
public interface Authenticator {

    /**
     * @param clientId the id from {@code HELLO}, already validated as 1-128 bytes of {@code [A-Za-z0-9._:@-]}
     * @param token    the {@code token=} value from {@code HELLO}, or {@code null} when absent
     * @param nowMs    wall-clock time in epoch milliseconds (injected so tests control expiry)
     * @return {@code null} when the client is accepted, otherwise a short human reason for {@code BYE 401}
     */
    String verify(String clientId, String token, long nowMs);

    /**
     * Until when a token {@link #verify} just accepted stays valid, in epoch milliseconds (leeway included): the
     * session is closed then unless the client sent a fresh one. {@link Long#MAX_VALUE} when it never expires.
     */
    default long validUntilMs(String token) {
        return Long.MAX_VALUE;
    }

    /** Accepts everyone: {@code --auth none}. */
    Authenticator NONE = (clientId, token, nowMs) -> null;
}
