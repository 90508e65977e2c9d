package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A client that does not read makes the proxy stop reading from the upstream, instead of buffering. */
@Timeout(60)
class ProxyBackpressureTest {
    /** Far more than every kernel buffer on the path can hold (loopback autotuning tops out at a few MiB each). */
    private static final long CAP_BYTES = 256L * 1024 * 1024;
    /** No write progress for this long counts as stalled. */
    private static final int STALL_MS = 1000;

    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void shouldStopReadingFromTheFastSideWhileTheClientDoesNotRead() throws Exception {
        assertPacedAndIntact(fx, 2 * 32 * 1024);
    }

    /**
     * Starts {@code fx} towards an upstream that writes as fast as it can to a client that does not read: the upstream
     * must stall with the proxy holding at most {@code maxQueuedBytes}; then the client reads everything, intact.
     */
    static void assertPacedAndIntact(ProxyFixture fx, long maxQueuedBytes) throws Exception {
        CompletableFuture<Long> stalledAt = new CompletableFuture<>();
        CompletableFuture<long[]> finished = new CompletableFuture<>();
        TestUpstream firehose = fx.upstream(s -> firehose(s, stalledAt, finished));
        fx.start(firehose.address());

        Socket client = new Socket();
        client.setReceiveBufferSize(16 * 1024);
        client.setSoTimeout(20_000);
        client.connect(new InetSocketAddress("127.0.0.1", fx.proxy().port()), 5000);
        try (client) {
            long stalled = stalledAt.get(40, TimeUnit.SECONDS);
            assertTrue(stalled < CAP_BYTES, "the upstream could write " + stalled + " bytes: the proxy kept reading");
            long queued = fx.proxy().queuedBytes();
            assertTrue(queued <= maxQueuedBytes, "proxy holds " + queued + " bytes for a client that does not read");

            // Now read everything: the stream resumes and arrives intact.
            InputStream in = client.getInputStream();
            CRC32 crc = new CRC32();
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buf)) >= 0; ) {
                crc.update(buf, 0, n);
                total += n;
            }
            long[] sent = finished.get(20, TimeUnit.SECONDS);
            assertEquals(sent[0], total);
            assertEquals(sent[1], crc.getValue());
        }
    }

    /**
     * Writes a pattern as fast as the socket takes it until no write progressed for {@link #STALL_MS} (or the cap),
     * reports the count, then finishes the last chunk blocking, sends FIN and reports {count, crc}.
     */
    private static void firehose(Socket s, CompletableFuture<Long> stalledAt, CompletableFuture<long[]> finished)
            throws java.io.IOException {
        SocketChannel ch = s.getChannel();
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        for (int i = 0; i < chunk.capacity(); i++) {
            chunk.put(i, (byte) (i * 31 + 7));
        }
        CRC32 crc = new CRC32();
        long written = 0;
        ch.configureBlocking(false);
        try (Selector sel = Selector.open()) {
            ch.register(sel, SelectionKey.OP_WRITE);
            chunk.clear();
            while (written < CAP_BYTES) {
                int n = ch.write(chunk);
                if (n > 0) {
                    written += n;
                    crc.update(chunk.array(), chunk.position() - n, n);
                    if (!chunk.hasRemaining()) {
                        chunk.clear();
                    }
                    continue;
                }
                if (sel.select(STALL_MS) == 0) {
                    break; // no progress for a second: the whole path is full
                }
                sel.selectedKeys().clear();
            }
            stalledAt.complete(written);
            ch.keyFor(sel).cancel();
            sel.selectNow();
        }
        ch.configureBlocking(true);
        while (chunk.position() != 0 && chunk.hasRemaining()) {
            int n = ch.write(chunk);
            written += n;
            crc.update(chunk.array(), chunk.position() - n, n);
        }
        s.shutdownOutput();
        finished.complete(new long[] {written, crc.getValue()});
    }
}
