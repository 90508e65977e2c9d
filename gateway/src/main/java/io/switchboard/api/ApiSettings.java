package io.switchboard.api;

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
 */
public record ApiSettings(String bind, int port, Transport transport, String token, int maxPayloadBytes,
                          int maxTtlSec, int maxConnections, int headerTimeoutSec, int bodyTimeoutSec) {
}
