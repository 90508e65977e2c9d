package io.switchboard.proxy;

import io.netty.channel.Channel;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts and logs an exception that ends one side of a forwarded connection, telling ordinary ends (resets, broken
 * pipes, TLS failures) from a bad PROXY header and from real errors. Stateless; on the connection's event loop.
 */
final class LinkErrors {
    /** The forwarded connection's log (these lines were logged by {@link Link} before and keep its name). */
    private static final Logger log = LoggerFactory.getLogger(Link.class);

    private LinkErrors() {}

    static void report(Throwable cause, ProxyMetrics metrics, Channel client) {
        if (cause instanceof HAProxyProtocolException) {
            metrics.refused(ProxyMetrics.Refused.PROXY_HEADER);
            log.debug("bad PROXY header from {}: {}", client.remoteAddress(), cause.getMessage());
        } else if (io.switchboard.transport.ServerTls.isTlsError(cause)) {
            // counted as a failed handshake, or a write after the client's close_notify: ordinary ends
            log.debug("TLS connection {} failed: {}", client.remoteAddress(), cause.toString());
        } else if (!(cause instanceof IOException)) {
            metrics.loopErrors.increment();
            log.warn("connection {} failed: {}", client.remoteAddress(), cause.toString());
        }
    }
}
