package io.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A scripted SWB/1 server on 127.0.0.1 for tests: blocking sockets driven by the test thread, every read and
 * accept bounded by a timeout so a missing frame fails the test instead of hanging it.
 */
final class FakeServer implements AutoCloseable {
    static final int TIMEOUT_MS = 5_000;

    private final ServerSocket server;
    private final List<Peer> peers = new ArrayList<>();

    FakeServer() throws IOException {
        this(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    }

    private FakeServer(ServerSocket server) throws IOException {
        this.server = server;
        server.setSoTimeout(TIMEOUT_MS);
    }

    /**
     * The same over TLS on {@code address}, with the tests' self-signed certificate for localhost and 127.0.0.1
     * ({@code /tls/cert.pem}, {@code key.pem}); the handshake happens at the first read or write.
     */
    static FakeServer tls(InetAddress address) throws Exception {
        java.security.cert.Certificate cert;
        try (InputStream in = FakeServer.class.getResourceAsStream("/tls/cert.pem")) {
            cert = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        String pem;
        try (InputStream in = FakeServer.class.getResourceAsStream("/tls/key.pem")) {
            pem = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        byte[] der = java.util.Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        java.security.spec.PKCS8EncodedKeySpec spec = new java.security.spec.PKCS8EncodedKeySpec(der);
        java.security.PrivateKey key;
        try {
            key = java.security.KeyFactory.getInstance("RSA").generatePrivate(spec);
        } catch (java.security.spec.InvalidKeySpecException notRsa) {
            key = java.security.KeyFactory.getInstance("EC").generatePrivate(spec);
        }
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "test".toCharArray();
        store.setKeyEntry("server", key, password, new java.security.cert.Certificate[] {cert});
        javax.net.ssl.KeyManagerFactory kmf =
                javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return new FakeServer(context.getServerSocketFactory().createServerSocket(0, 50, address));
    }

    int port() {
        return server.getLocalPort();
    }

    Peer accept() throws IOException {
        Socket s = server.accept();
        s.setSoTimeout(TIMEOUT_MS);
        s.setTcpNoDelay(true);
        Peer p = new Peer(s);
        synchronized (peers) {
            peers.add(p);
        }
        return p;
    }

    /** Accepts, checks the HELLO line and answers {@code welcome}. */
    Peer acceptHello(String expectedHello, String welcome) throws IOException {
        Peer p = accept();
        p.expect(expectedHello);
        p.send(welcome);
        return p;
    }

    @Override
    public void close() throws IOException {
        synchronized (peers) {
            for (Peer p : peers) {
                p.close();
            }
        }
        server.close();
    }

    /** One accepted connection. */
    static final class Peer implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Peer(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        /** The next line without its LF, or null at end of stream; fails after the timeout. */
        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int i = 0; i < 64 * 1024; i++) {
                int b = in.read();
                if (b < 0) {
                    return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
                }
                if (b == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(b);
            }
            throw new IOException("line longer than 64 KiB");
        }

        void expect(String line) throws IOException {
            assertEquals(line, readLine());
        }

        /** Checks the next line, then closes this connection. */
        void expectAndClose(String line) throws IOException {
            expect(line);
            close();
        }

        byte[] readBytes(int n) throws IOException {
            return in.readNBytes(n);
        }

        /** Writes {@code text} as is (add LFs yourself). */
        void sendRaw(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** Writes one control line. */
        void send(String line) throws IOException {
            sendRaw(line + "\n");
        }

        void sendMsg(long seq, String payload) throws IOException {
            sendRaw(msg(seq, payload));
        }

        static String msg(long seq, String payload) {
            return "MSG " + seq + " " + payload.getBytes(StandardCharsets.UTF_8).length + "\n" + payload + "\n";
        }

        /** True if the client closed the connection (end of stream) within the timeout. */
        boolean closedByClient() throws IOException {
            try {
                return in.read() < 0;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true; // reset by the client
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
