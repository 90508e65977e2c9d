package io.switchboard.cluster.redis;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS on the direct links of a cluster whose Redis is reached over TLS ({@code rediss://}), so that pushes between
 * nodes are as private as the ones through Redis. Each process makes a key pair and a self-signed certificate of its
 * own at start (nothing for an operator to issue or renew) and announces the certificate's SHA-256 next to its link
 * address in Redis; a node opening a link accepts exactly that certificate (pinned: no CA, no host name), so only
 * the process that announced it can answer. The listener still takes requests only from a node that proves the link
 * secret (see {@link NodeLinks}): that proof now travels inside the encrypted link. Both are as trustworthy as the
 * TLS connection to Redis they are read from.
 *
 * <p>Immutable; the client contexts, kept per peer certificate, are shared by the process. Thread-safe.
 */
final class LinkTls {
    /** What follows a link address in Redis when the link takes TLS: {@code host:port tls:<sha-256 hex>}. */
    static final String ANNOUNCED = " tls:";
    private static final int MAX_CACHED_PEERS = 256;

    private final SslContext server;
    /** The SHA-256 of this process's certificate, hex. */
    final String fingerprint;
    /** Client contexts by the peer certificate they accept: one per peer process, made once. */
    private static final Map<String, SslContext> CLIENTS = new ConcurrentHashMap<>();

    private LinkTls(SslContext server, String fingerprint) {
        this.server = server;
        this.fingerprint = fingerprint;
    }

    /** A fresh P-256 key and a self-signed certificate for {@code node}; throws {@link IllegalStateException}. */
    static LinkTls generate(String node) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = g.generateKeyPair();
            X509Certificate cert = selfSigned(pair, "switchboard cluster link " + node);
            SslContext server = SslContextBuilder.forServer(pair.getPrivate(), cert).protocols("TLSv1.3").build();
            return new LinkTls(server, fingerprint(cert));
        } catch (GeneralSecurityException | SSLException e) {
            throw new IllegalStateException("cannot make the TLS certificate for the cluster's links: " + e, e);
        }
    }

    /** The listener's side of a link. */
    SslHandler serverHandler(ByteBufAllocator alloc) {
        return server.newHandler(alloc);
    }

    /**
     * The opener's side of a link to a peer that announced {@code peerFingerprint}: the handshake fails unless the
     * peer shows that very certificate. Needs no certificate of this node's own.
     */
    static SslHandler clientHandler(ByteBufAllocator alloc, String peerFingerprint, String host, int port) {
        SslContext ctx = CLIENTS.get(peerFingerprint);
        if (ctx == null) {
            try {
                ctx = SslContextBuilder.forClient().protocols("TLSv1.3").trustManager(new Pinned(peerFingerprint))
                        .endpointIdentificationAlgorithm(null).build();
            } catch (SSLException e) {
                throw new IllegalStateException("cannot make a TLS context for a link: " + e, e);
            }
            if (CLIENTS.size() >= MAX_CACHED_PEERS) {
                CLIENTS.clear(); // processes of the peers come and go; a context is cheap to make again
            }
            CLIENTS.put(peerFingerprint, ctx);
        }
        return ctx.newHandler(alloc, host, port);
    }

    /** The announced value {@code hostPort} for a link with this TLS. */
    String announce(String hostPort) {
        return hostPort + ANNOUNCED + fingerprint;
    }

    static String fingerprint(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Accepts the one server certificate whose SHA-256 is the pinned one; presents none of its own. */
    private static final class Pinned extends X509ExtendedTrustManager {
        private final String expected;

        Pinned(String expected) {
            this.expected = expected;
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0 || !MessageDigest.isEqual(
                    fingerprint(chain[0]).getBytes(StandardCharsets.US_ASCII),
                    expected.getBytes(StandardCharsets.US_ASCII))) {
                throw new CertificateException("the link's peer shows a certificate other than the one its node "
                        + "announced in Redis");
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a link's opener shows no certificate");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("a link's opener shows no certificate");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("a link's opener shows no certificate");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /**
     * A self-signed X.509 v3 certificate (no extensions) for {@code pair}, written in DER here as the JDK has no
     * public API to make one: its only use is to be pinned by its hash, so it carries no more than TLS needs.
     */
    static X509Certificate selfSigned(KeyPair pair, String commonName) throws GeneralSecurityException {
        byte[] sha256WithEcdsa = der(0x30, der(0x06, new byte[] {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 4, 3, 2}));
        byte[] name = der(0x30, der(0x31, der(0x30, der(0x06, new byte[] {0x55, 4, 3}),
                der(0x0c, commonName.getBytes(StandardCharsets.UTF_8)))));
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        DateTimeFormatter utc = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'");
        byte[] validity = der(0x30, der(0x17, now.minusDays(1).format(utc).getBytes(StandardCharsets
                .US_ASCII)), der(0x17, now.plusYears(20).format(utc).getBytes(StandardCharsets
                .US_ASCII)));
        byte[] serial = new byte[16];
        new SecureRandom().nextBytes(serial);
        serial[0] = (byte) ((serial[0] & 0x3f) | 0x40); // positive, and no leading zero byte needed
        byte[] tbs = der(0x30, der(0xa0, der(0x02, new byte[] {2})), der(0x02, serial), sha256WithEcdsa, name,
                validity, name, pair.getPublic().getEncoded());
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(pair.getPrivate());
        s.update(tbs);
        byte[] sig = s.sign();
        byte[] bits = new byte[sig.length + 1]; // a BIT STRING: a leading count of unused bits, 0
        System.arraycopy(sig, 0, bits, 1, sig.length);
        byte[] cert = der(0x30, tbs, sha256WithEcdsa, der(0x03, bits));
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(cert));
    }

    /** One DER element: {@code tag}, its length (definite form, under 64 KiB here) and the parts one after another. */
    private static byte[] der(int tag, byte[]... parts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            body.writeBytes(p);
        }
        int n = body.size();
        ByteArrayOutputStream out = new ByteArrayOutputStream(n + 4);
        out.write(tag);
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n & 0xff);
        }
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }
}
