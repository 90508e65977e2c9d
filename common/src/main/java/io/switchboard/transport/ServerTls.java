package io.switchboard.transport;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * TLS termination contexts for a listener, from a PEM certificate chain and an unencrypted PKCS#8 private key: with
 * BoringSSL (netty-tcnative) when it loads on this machine, else the JDK's engine. Shared by the proxy's routes and
 * the gateway's MQTT and WebSocket listeners. Stateless.
 */
public final class ServerTls {
    private ServerTls() {}

    /** OPENSSL when netty-tcnative loads here, else JDK. */
    public static SslProvider auto() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /**
     * A server context.
     *
     * @param options how the operator named the two files ({@code --tls-cert ... with --tls-key ...}), for the error
     * @throws IllegalArgumentException one line saying what is wrong with the files and how to fix it
     */
    public static SslContext context(Path cert, Path key, SslProvider provider, String options) {
        return context(cert, key, provider, options, new String[0]);
    }

    /**
     * A server context that offers {@code alpn} (in the server's order of preference; none: no ALPN), e.g. h2 and
     * http/1.1; a client that offers none of them gets the listener's default.
     *
     * @throws IllegalArgumentException one line saying what is wrong with the files and how to fix it
     */
    public static SslContext context(Path cert, Path key, SslProvider provider, String options, String... alpn) {
        try {
            SslContextBuilder b = SslContextBuilder.forServer(cert.toFile(), key.toFile()).sslProvider(provider);
            if (alpn.length > 0) {
                b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new IllegalArgumentException("cannot use " + options + ": " + root.getMessage() + " (a PEM "
                    + "certificate chain and its unencrypted PKCS#8 key are expected: openssl pkcs8 -topk8 -nocrypt "
                    + "converts a PKCS#1 key)", e);
        }
    }

    /**
     * Whether {@code cause} is, or was caused by, a TLS failure: the peer's doing (plain text on a TLS port, a
     * certificate or protocol version it refused, a damaged record), to count and log quietly, not a server fault.
     */
    public static boolean isTlsError(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) {
                return true;
            }
        }
        return false;
    }
}
