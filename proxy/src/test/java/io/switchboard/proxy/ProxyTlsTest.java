package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.ssl.OpenSsl;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** TLS termination on a listener: both engines, bad clients, the FIN towards the client, certificate reload. */
@Timeout(60)
class ProxyTlsTest {
    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    static Path resource(String name) {
        try {
            return Path.of(ProxyTlsTest.class.getResource("/tls/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private void useTls(RouteConfig r, String cert, String key, RouteConfig.TlsProvider provider) {
        r.tlsCert = resource(cert);
        r.tlsKey = resource(key);
        r.tlsProvider = provider;
    }

    /** A client that trusts the two test certificates only. */
    private SSLSocket tlsClient() throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        for (String c : new String[] {"cert.pem", "ec-cert.pem"}) {
            try (InputStream in = ProxyTlsTest.class.getResourceAsStream("/tls/" + c)) {
                trust.setCertificateEntry(c, cf.generateCertificate(in));
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                fx.proxy().port());
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    @ParameterizedTest
    @EnumSource(value = RouteConfig.TlsProvider.class, names = {"OPENSSL", "JDK"})
    void shouldForwardDecryptedBytesIntactBothWays(RouteConfig.TlsProvider provider) throws Exception {
        assumeTrue(provider != RouteConfig.TlsProvider.OPENSSL || OpenSsl.isAvailable(),
                () -> "netty-tcnative does not load here: " + OpenSsl.unavailabilityCause());
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        useTls(fx.config.route(), "cert.pem", "key.pem", provider);
        fx.start(echo.address());
        byte[] sent = Bytes.random(7, 3 * 1024 * 1024 + 17);
        try (SSLSocket s = tlsClient()) {
            Bytes.echoed(s, sent, false); // no FIN: a close_notify ends the OpenSSL engine both ways
        }
        assertEquals(1, fx.proxy().metrics().tlsHandshakes.sum());
        ProxyFixture.await("upstream closed after the client", () -> echo.open() == 0);
        assertTrue(echo.failures.isEmpty(), () -> echo.failures.toString());
    }

    @Test
    void shouldCloseAndCountAClientThatDoesNotSpeakTls() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        useTls(fx.config.route(), "cert.pem", "key.pem", RouteConfig.TlsProvider.AUTO);
        fx.start(echo.address());
        Socket plain = fx.connect();
        plain.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(Bytes.closedByPeer(plain));
        ProxyFixture.await("handshake failure counted",
                () -> fx.proxy().metrics().refusals(ProxyMetrics.Refused.TLS_HANDSHAKE) == 1);
        assertEquals(0, fx.proxy().metrics().loopErrors.sum(), "an ordinary failure, not an error");
        assertTrue(echo.peers.size() <= 1);
    }

    @Test
    void aRefusalOrAQuietCloseOnATlsPortIsNotAlsoAFailedHandshake() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        useTls(fx.config.route(), "cert.pem", "key.pem", RouteConfig.TlsProvider.AUTO);
        fx.config.route().deny = io.switchboard.options.CidrList.parse("--deny", "127.0.0.2");
        fx.start(echo.address());
        try (Socket denied = new Socket()) {
            denied.bind(new java.net.InetSocketAddress("127.0.0.2", 0));
            denied.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), fx.proxy().port()));
            assertTrue(Bytes.closedByPeer(denied));
        }
        ProxyFixture.await("the denial counted",
                () -> fx.proxy().metrics().refusals(ProxyMetrics.Refused.DENIED) == 1);
        fx.connect().close(); // a load balancer's TCP check: connect, close
        try (SSLSocket s = tlsClient()) { // and one handshake that works, after both
            ProxyFixture.await("the handshake counted", () -> fx.proxy().metrics().tlsHandshakes.sum() == 1);
        }
        assertEquals(0, fx.proxy().metrics().refusals(ProxyMetrics.Refused.TLS_HANDSHAKE),
                "neither the denied client nor the quiet close is a failed handshake");
    }

    @Test
    void shouldPassTheUpstreamsCloseToTheTlsClientAfterItsData() throws Exception {
        TestUpstream greeter = fx.upstream(s -> {
            s.getOutputStream().write("hello and goodbye\n".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        });
        useTls(fx.config.route(), "cert.pem", "key.pem", RouteConfig.TlsProvider.AUTO);
        fx.start(greeter.address());
        try (SSLSocket s = tlsClient()) {
            byte[] got = s.getInputStream().readAllBytes(); // ends at the proxy's close_notify, not a reset
            assertEquals("hello and goodbye\n", new String(got, StandardCharsets.US_ASCII));
        }
    }

    @Test
    void shouldServeTheNewCertificateAfterAReloadWhileOpenConnectionsGoOn() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        useTls(fx.config.route(), "cert.pem", "key.pem", RouteConfig.TlsProvider.AUTO);
        fx.start(echo.address());
        SSLSocket before = tlsClient();
        assertEquals("RSA", ((X509Certificate) before.getSession().getPeerCertificates()[0]).getPublicKey()
                .getAlgorithm());

        ProxyConfig next = new ProxyConfig();
        next.eventLoops = fx.config.eventLoops;
        RouteConfig r = next.route();
        r.listen = fx.config.route().listen;
        r.upstreams = fx.config.route().upstreams;
        useTls(r, "ec-cert.pem", "ec-key.pem", RouteConfig.TlsProvider.AUTO);
        fx.proxy().reload(next);

        try (SSLSocket after = tlsClient()) {
            assertEquals("EC", ((X509Certificate) after.getSession().getPeerCertificates()[0]).getPublicKey()
                    .getAlgorithm());
            Bytes.roundTrip(after, "new certificate");
        }
        Bytes.roundTrip(before, "the old session goes on");
        before.close();
    }
}
