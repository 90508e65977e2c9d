package io.switchboard.client;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/** The client's side of TLS: a context trusting the JVM's CAs or a PEM file's certificates, and a handler per connection. */
final class Tls {
    private Tls() {
    }

    /**
     * A client context trusting the certificates in {@code pem}, or (null) the JVM's trusted CAs.
     *
     * @throws IllegalArgumentException when the file cannot be read or holds no certificate
     */
    static SSLContext context(Path pem) {
        try {
            if (pem == null) {
                return SSLContext.getDefault();
            }
            Collection<? extends Certificate> certificates;
            try (InputStream in = Files.newInputStream(pem)) {
                certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("tlsTrusting: no certificate in " + pem + " (PEM, BEGIN CERTIFICATE)");
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certificates) {
                trust.setCertificateEntry("trusted-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("tlsTrusting: cannot read certificates from " + pem + ": " + e.getMessage(),
                    e);
        }
    }

    /** A handler for one connection to {@code host}: client mode, the server's name checked (and sent as SNI). */
    static SslHandler handler(SSLContext context, ByteBufAllocator alloc, String host, int port) {
        SSLEngine engine = context.createSSLEngine(host, port);
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name host: not any trusted one
        engine.setSSLParameters(parameters);
        return new SslHandler(engine);
    }
}
