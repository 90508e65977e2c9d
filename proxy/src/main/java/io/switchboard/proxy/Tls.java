package io.switchboard.proxy;

import io.netty.channel.Channel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.switchboard.transport.ServerTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS termination on a listener: a server context from a PEM certificate chain and PKCS#8 private key, with
 * BoringSSL (netty-tcnative) when it loads on this machine and the JDK's engine otherwise. Built at start and at
 * each reload, so a renewed certificate is picked up by a SIGHUP; connections already open keep the context they
 * started with (an OPENSSL context is freed by the JVM once no engine uses it). Also the TLS steps of a forwarded
 * connection: its handler, its handshake's outcome, its FIN (a close_notify first) and which errors are TLS ones.
 * Stateless; the per-connection methods run on the connection's event loop.
 */
final class Tls {
    /** The forwarded connection's log (these lines were logged by {@link Link} before and keep its name). */
    private static final Logger log = LoggerFactory.getLogger(Link.class);

    private Tls() {}

    /** The engine a route gets. */
    static SslProvider provider(RouteConfig.TlsProvider wanted) {
        return switch (wanted) {
            case AUTO -> ServerTls.auto();
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new IllegalArgumentException("--tls-provider openssl: netty-tcnative cannot load here ("
                            + OpenSsl.unavailabilityCause() + "); use --tls-provider jdk or auto");
                }
                yield SslProvider.OPENSSL;
            }
        };
    }

    static SslContext serverContext(RouteConfig r) {
        return ServerTls.context(r.tlsCert, r.tlsKey, provider(r.tlsProvider), "listen " + r.name() + ": --tls-cert "
                + r.tlsCert + " with --tls-key " + r.tlsKey);
    }

    /** The TLS handler for a channel accepted under {@code route}, with the route's handshake timeout. */
    static SslHandler newHandler(Route route, Channel ch) {
        SslHandler tls = route.ssl.newHandler(ch.alloc());
        tls.setHandshakeTimeoutMillis(route.config.tlsHandshakeTimeoutSec * 1000L);
        return tls;
    }

    /** A client's handshake ended: counted either way, and a failure logged. */
    static void handshakeCompleted(SslHandshakeCompletionEvent hs, ProxyMetrics metrics, Channel client) {
        if (hs.isSuccess()) {
            metrics.tlsHandshakes.increment();
        } else if (!client.isActive() && !(hs.cause() instanceof javax.net.ssl.SSLException ssl
                && !String.valueOf(ssl.getMessage()).startsWith("Connection closed while"))) {
            // The client closed before it said anything wrong (a load balancer's TCP check, a client giving up):
            // not a failed handshake.
            log.debug("TLS handshake with {} cut short by its close", client.remoteAddress());
        } else {
            // The SslHandler closes the channel itself (bad hello, timeout, plain text on a TLS port).
            metrics.refused(ProxyMetrics.Refused.TLS_HANDSHAKE);
            log.debug("TLS handshake with {} failed: {}", client.remoteAddress(), hs.cause().toString());
        }
    }

    /** Passes a FIN on to a TLS client: a close_notify after the pending bytes, then the TCP FIN. */
    static void shutdownOutputAfterFlush(SslHandler tls, Channel client) {
        // After the handshake (a close_notify before it would break the handshake the client is making).
        tls.handshakeFuture().addListener(hs -> {
            if (hs.isSuccess()) {
                client.flush();
                tls.closeOutbound().addListener(ChannelEnds.SHUTDOWN_OUTPUT_AFTER_FLUSH);
            } else {
                client.close();
            }
        });
    }
}
