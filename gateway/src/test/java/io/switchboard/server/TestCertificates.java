package io.switchboard.server;

import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The tests' self-signed certificate for localhost ({@code /tls/cert.pem}, {@code key.pem}) and a client trusting it. */
final class TestCertificates {
    private TestCertificates() {}

    /** The path of {@code /tls/NAME} on the test class path. */
    static String file(String name) {
        try {
            return Path.of(TestCertificates.class.getResource("/tls/" + name).toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A TLS context that trusts the test certificate alone. */
    static SSLContext trusting() throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = TestCertificates.class.getResourceAsStream("/tls/cert.pem")) {
            trust.setCertificateEntry("test", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
