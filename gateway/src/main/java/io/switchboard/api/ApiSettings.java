package io.switchboard.api;

import io.netty.handler.ssl.SslContext;
import io.switchboard.transport.Transport;

/**
 * What the backend API is configured with, taken from the server's configuration when it starts. Immutable.
 *
 * @param bind             address the API listens on
 * @param port             port the API listens on (0: any free port)
 * @param transport        the event-loop transport of the API's own loop
 * @param token            bearer token every request but {@code /healthz} must carry, or {@code null} for none
 * @param maxPayloadBytes  largest payload one pushed message may have
 * @param maxTtlSec        largest ttl a push may ask for (both the path and the batch form)
 * @param maxConnections   API connections open at once; one more is answered 503 and closed
 * @param headerTimeoutSec seconds a request has from its first byte (or the connection's opening) to its last
 *                         header line
 * @param bodyTimeoutSec   seconds a request has from its last header line to the end of its body
 * @param idleTimeoutSec   seconds a connection may stay open with no request in progress (HTTP/2: no stream open)
 * @param maxStreams       HTTP/2 requests one connection may have open at once (its SETTINGS_MAX_CONCURRENT_STREAMS)
 * @param tls              TLS on the API port (h2 or HTTP/1.1 chosen by ALPN), or {@code null}: plain HTTP, where
 *                         HTTP/2 is spoken when the client starts with its preface or asks to upgrade (h2c)
 * @param maxBodyMemory    bytes of request bodies the API holds while they arrive, all connections and streams
 *                         together ({@code --api-max-body-memory}); a request beyond is answered 503
 */
public record ApiSettings(String bind, int port, Transport transport, String token, int maxPayloadBytes,
                          int maxTtlSec, int maxConnections, int headerTimeoutSec, int bodyTimeoutSec,
                          int idleTimeoutSec, int maxStreams, SslContext tls, long maxBodyMemory) {
    /** HTTP/2 streams per connection when not configured ({@code --api-max-streams}). */
    public static final int DEFAULT_MAX_STREAMS = 1000;
    /** Seconds an idle API connection is kept when not configured ({@code --api-idle-timeout}). */
    public static final int DEFAULT_IDLE_TIMEOUT_SEC = 300;
    /** Request bodies held at once when not configured ({@code --api-max-body-memory}), MiB. */
    public static final int DEFAULT_MAX_BODY_MEMORY_MIB = 256;
    /** The largest request body, MiB: {@code --api-max-body-memory} must hold one. */
    public static final int MAX_BODY_MIB = 64;

    /** Plain HTTP with the default stream limit and idle timeout. */
    public ApiSettings(String bind, int port, Transport transport, String token, int maxPayloadBytes, int maxTtlSec,
                       int maxConnections, int headerTimeoutSec, int bodyTimeoutSec) {
        this(bind, port, transport, token, maxPayloadBytes, maxTtlSec, maxConnections, headerTimeoutSec,
                bodyTimeoutSec, DEFAULT_IDLE_TIMEOUT_SEC, DEFAULT_MAX_STREAMS, null,
                DEFAULT_MAX_BODY_MEMORY_MIB * 1024L * 1024);
    }
}
