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
