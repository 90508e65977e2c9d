package io.switchboard.proxy;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import javax.net.ssl.SSLException;

/**
 * TLS termination on a listener: a server context from a PEM certificate chain and PKCS#8 private key, with
 * BoringSSL (netty-tcnative) when it loads on this machine and the JDK's engine otherwise. Built at start and at
 * each reload, so a renewed certificate is picked up by a SIGHUP; connections already open keep the context they
 * started with (an OPENSSL context is freed by the JVM once no engine uses it).
 */
final class Tls {
    private Tls() {}

    /** The engine a route gets. */
    static SslProvider provider(RouteConfig.TlsProvider wanted) {
        return switch (wanted) {
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
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
        SslProvider provider = provider(r.tlsProvider);
        try {
            return SslContextBuilder.forServer(r.tlsCert.toFile(), r.tlsKey.toFile())
                    .sslProvider(provider)
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new IllegalArgumentException("listen " + r.name() + ": cannot use --tls-cert " + r.tlsCert
                    + " with --tls-key " + r.tlsKey + ": " + root.getMessage() + " (a PEM certificate chain and its "
                    + "unencrypted PKCS#8 key are expected: openssl pkcs8 -topk8 -nocrypt converts a PKCS#1 key)", e);
        }
    }
}
