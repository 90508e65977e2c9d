package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Random;
import java.util.zip.CRC32;

/** Helpers for tests that push bytes through the proxy and check them. */
final class Bytes {
    private Bytes() {}

    static byte[] random(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    static long crc(byte[] b, int off, int len) {
        CRC32 c = new CRC32();
        c.update(b, off, len);
        return c.getValue();
    }

    /** Reads exactly {@code n} bytes or fails at EOF. */
    static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length, "stream ended after " + b.length + " of " + n + " bytes");
        return b;
    }

    /**
     * Writes {@code sent} from another thread (in 50,000-byte writes, then a FIN when {@code halfClose}) while
     * reading the echo here, and checks that exactly the same bytes came back.
     */
    static void echoed(Socket s, byte[] sent, boolean halfClose) throws Exception {
        java.util.concurrent.CompletableFuture<Void> writer = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                OutputStream out = s.getOutputStream();
                for (int off = 0; off < sent.length; off += 50_000) {
                    out.write(sent, off, Math.min(50_000, sent.length - off));
                }
                out.flush();
                if (halfClose) {
                    s.shutdownOutput();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        byte[] got = readExactly(s.getInputStream(), sent.length);
        writer.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(crc(sent, 0, sent.length), crc(got, 0, got.length));
    }

    /** Writes {@code line} and expects it echoed back. */
    static void roundTrip(Socket s, String line) throws IOException {
        byte[] out = line.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        OutputStream o = s.getOutputStream();
        o.write(out);
        o.flush();
        assertEquals(line, new String(readExactly(s.getInputStream(), out.length),
                java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** True when the proxy closed the connection: EOF or reset on read. */
    static boolean closedByPeer(Socket s) {
        try {
            return s.getInputStream().read() < 0;
        } catch (IOException e) {
            return true;
        }
    }
}
