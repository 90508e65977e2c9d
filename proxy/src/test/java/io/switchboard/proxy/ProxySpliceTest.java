package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.switchboard.options.CommandLines;
import io.switchboard.transport.Transport;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --splice}: bytes intact both ways and under concurrency, FINs passed on only after the bytes before them
 * (also when the FIN reaches the proxy while megabytes still wait in its socket), pacing by the slower side, the
 * idle timeout, metrics, the two pipes per connection, and the refusals.
 */
@Timeout(120)
class ProxySpliceTest {
    private static final int MB = 1024 * 1024;

    private final ProxyFixture fx = new ProxyFixture();

    @BeforeEach
    void splice() {
        fx.config.route().splice = true;
    }

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void shouldSpliceSeveralMegabytesIntactBothWaysThroughTwoPipes() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.start(echo.address());
        long pipesBefore = pipeFds();
        Socket s = fx.connect();
        Bytes.roundTrip(s, "hello");
        assertEquals(1, fx.proxy().metrics().splicedActive.get());
        assertEquals(4, pipeFds() - pipesBefore, "two pipes (4 descriptors) for the connection");

        byte[] sent = Bytes.random(11, 8 * MB + 13);
        Bytes.echoed(s, sent, true);
        assertEquals(-1, s.getInputStream().read(), "the FIN came back through the proxy");
        ProxyFixture.await("released", () -> fx.proxy().metrics().active.get() == 0);
        ProxyMetrics m = fx.proxy().metrics();
        assertEquals(5 + sent.length, m.bytesToUpstream.sum());
        assertEquals(5 + sent.length, m.bytesToClient.sum());
        assertEquals(0, m.splicedActive.get());
        assertEquals(0, m.spliceErrors.sum());
        ProxyFixture.await("pipes closed", () -> pipeFds() == pipesBefore);
        String text = fx.proxy().prometheus();
        assertTrue(text.contains("switchboard_proxy_connections_spliced 0\n"), text);
        assertTrue(text.contains("switchboard_proxy_bytes_total{direction=\"upstream_to_client\"} "
                + (5 + sent.length) + "\n"), text);
    }

    @Test
    void shouldKeepManyConcurrentConnectionsIntact() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.start(echo.address());
        int connections = 40;
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            sockets.add(fx.connect());
        }
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                Socket s = sockets.get(i);
                byte[] sent = Bytes.random(100 + i, 512 * 1024 + i);
                done.add(threads.submit(() -> {
                    threads.submit(() -> writeThenFin(s, sent));
                    byte[] got = s.getInputStream().readAllBytes();
                    assertEquals(sent.length, got.length);
                    assertEquals(Bytes.crc(sent, 0, sent.length), Bytes.crc(got, 0, got.length));
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        ProxyFixture.await("all released", () -> fx.proxy().metrics().active.get() == 0);
        assertEquals(0, fx.proxy().metrics().splicedActive.get());
        assertEquals(0, fx.proxy().metrics().spliceErrors.sum());
    }

    /**
     * The client writes megabytes and its FIN while the upstream does not read: the FIN reaches the proxy (EPOLLRDHUP)
     * while the bytes before it still wait in the proxy's socket. The upstream must get every byte, then EOF.
     */
    @Test
    void shouldPassTheClientFinOnOnlyAfterEveryByteBeforeIt() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        AtomicReference<CountDownLatch> finSent = new AtomicReference<>();
        TestUpstream counter = fx.upstream(s -> {
            await(finSent.get()); // until then the bytes and the FIN pile up at the proxy
            CRC32 crc = new CRC32();
            long n = drain(s.getInputStream(), crc);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeLong(n);
            out.writeLong(crc.getValue());
            out.flush();
            s.shutdownOutput();
        });
        fx.start(counter.address());
        for (int round = 0; round < 5; round++) {
            byte[] sent = Bytes.random(round, 4 * MB + round);
            CountDownLatch latch = new CountDownLatch(1);
            finSent.set(latch);
            Socket s = fx.connect();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                writeThenFin(s, sent);
                latch.countDown();
            });
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertEquals(sent.length, in.readLong(), "bytes the upstream got before EOF, round " + round);
            assertEquals(Bytes.crc(sent, 0, sent.length), in.readLong(), "round " + round);
            assertEquals(-1, in.read(), "the upstream's FIN");
            writer.get(10, TimeUnit.SECONDS);
        }
        ProxyFixture.await("released", () -> fx.proxy().metrics().active.get() == 0);
        assertEquals(0, fx.proxy().metrics().spliceErrors.sum());
    }

    /**
     * The reverse: the upstream writes megabytes and its FIN before the client reads anything. The client must get
     * every byte, then EOF, and can still send afterwards.
     */
    @Test
    void shouldPassTheUpstreamFinOnOnlyAfterEveryByteBeforeIt() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        AtomicReference<byte[]> stream = new AtomicReference<>();
        AtomicReference<CountDownLatch> finSent = new AtomicReference<>();
        AtomicReference<CompletableFuture<String>> upstreamGot = new AtomicReference<>();
        TestUpstream talker = fx.upstream(s -> {
            byte[] b = stream.get();
            OutputStream out = s.getOutputStream();
            for (int off = 0; off < b.length; off += 64 * 1024) {
                out.write(b, off, Math.min(64 * 1024, b.length - off));
            }
            s.shutdownOutput();
            finSent.get().countDown();
            upstreamGot.get().complete(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
        });
        fx.start(talker.address());
        for (int round = 0; round < 5; round++) {
            byte[] sent = Bytes.random(50 + round, 4 * MB + round);
            stream.set(sent);
            CountDownLatch latch = new CountDownLatch(1);
            finSent.set(latch);
            upstreamGot.set(new CompletableFuture<>());
            Socket s = fx.connect();
            await(latch); // the client reads only once the upstream's FIN is on its way
            CRC32 crc = new CRC32();
            assertEquals(sent.length, drain(s.getInputStream(), crc), "bytes before EOF, round " + round);
            assertEquals(Bytes.crc(sent, 0, sent.length), crc.getValue(), "round " + round);
            s.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            assertEquals("still here", upstreamGot.get().get(10, TimeUnit.SECONDS));
        }
        ProxyFixture.await("released", () -> fx.proxy().metrics().active.get() == 0);
        assertEquals(0, fx.proxy().metrics().spliceErrors.sum());
    }

    /** Request, FIN, then a large reply and FIN: the upstream socket is shut both ways while its reply drains. */
    @Test
    void shouldDeliverALargeReplyAfterTheClientFinToALateReader() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        byte[] reply = Bytes.random(3, 16 * MB);
        TestUpstream server = fx.upstream(s -> {
            s.getInputStream().readAllBytes();
            s.getOutputStream().write(reply);
            s.shutdownOutput();
        });
        fx.start(server.address());
        Socket s = fx.connect();
        s.getOutputStream().write(new byte[1000]);
        s.shutdownOutput();
        Thread.sleep(300);
        byte[] got = s.getInputStream().readAllBytes();
        assertEquals(reply.length, got.length);
        assertEquals(Bytes.crc(reply, 0, reply.length), Bytes.crc(got, 0, got.length));
        ProxyFixture.await("released", () -> fx.proxy().metrics().active.get() == 0);
    }

    /** As {@link ProxyBackpressureTest}: a client that does not read stops the upstream; nothing piles up. */
    @Test
    void shouldStopReadingFromTheFastSideWhileTheClientDoesNotRead() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        // A pending splice counts 8 bytes plus Netty's 96-byte entry overhead; its bytes wait in the pipe (64 KiB).
        ProxyBackpressureTest.assertPacedAndIntact(fx, 2 * 104);
    }

    @Test
    void shouldRefreshTheIdleTimeoutWithSplicedBytes() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.route().idleTimeoutSec = 60;
        fx.start(echo.address());
        Socket s = fx.connect();
        Bytes.roundTrip(s, "x");
        fx.advanceSec(50);
        Bytes.roundTrip(s, "at 50 s");
        fx.advanceSec(50);
        Bytes.roundTrip(s, "at 100 s: 50 s after the last bytes, still open");
        fx.advanceSec(60);
        assertTrue(Bytes.closedByPeer(s));
        assertEquals(1, fx.proxy().metrics().idleClosed.sum());
    }

    @Test
    void shouldSendThePROXYHeaderAndEarlyBytesBeforeSplicedOnes() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        TestUpstream recorder = fx.upstream(s -> {
            byte[] all = s.getInputStream().readAllBytes();
            s.getOutputStream().write(all);
            s.shutdownOutput();
        });
        fx.config.route().acceptProxy = true;
        fx.config.route().sendProxy = RouteConfig.SendProxy.V1;
        fx.start(recorder.address());
        Socket s = fx.connect();
        OutputStream out = s.getOutputStream();
        out.write("PROXY TCP4 192.0.2.1 198.51.100.2 5555 443\r\nearly bytes, ".getBytes(StandardCharsets.US_ASCII));
        ProxyFixture.await("upstream connected", () -> recorder.accepted.get() == 1);
        Thread.sleep(100);
        out.write("spliced bytes".getBytes(StandardCharsets.US_ASCII));
        s.shutdownOutput();
        assertEquals("PROXY TCP4 192.0.2.1 198.51.100.2 5555 443\r\nearly bytes, spliced bytes",
                new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
    }

    @Test
    void shouldNotSpliceWithoutTheOption() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        fx.config.route().splice = false;
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.start(echo.address());
        long pipesBefore = pipeFds();
        Socket s = fx.connect();
        byte[] sent = Bytes.random(5, MB);
        Bytes.echoed(s, sent, false);
        assertEquals(pipesBefore, pipeFds(), "no pipe without --splice");
        assertEquals(0, fx.proxy().metrics().splicedActive.get());
        assertEquals(sent.length, fx.proxy().metrics().bytesToClient.sum());
    }

    @Test
    void shouldRefuseSpliceWithTlsOrWithoutEpoll() {
        RouteConfig tls = fx.config.route();
        tls.upstreams = List.of(new InetSocketAddress("127.0.0.1", 1));
        tls.tlsCert = Path.of("cert.pem");
        tls.tlsKey = Path.of("key.pem");
        assertTrue(assertThrows(IllegalArgumentException.class, fx.config::validate).getMessage()
                .startsWith("--splice cannot be combined with --tls-cert"));
        tls.tlsCert = null;
        tls.tlsKey = null;
        fx.config.transport = Transport.NIO;
        assertEquals("--splice needs --transport epoll, not nio",
                assertThrows(IllegalArgumentException.class, fx.config::validate).getMessage());
        fx.config.transport = Transport.IO_URING;
        assertThrows(IllegalArgumentException.class, fx.config::validate);
    }

    @Test
    void shouldRefuseSpliceOnTheCommandLineAndInTheFile() {
        StringWriter err = new StringWriter();
        var cl = CommandLines.rootWith(new ProxyCommand());
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--splice",
                "--transport", "nio"));
        assertTrue(err.toString().contains("--splice needs --transport epoll, not nio"), err.toString());
        assertEquals(2, cl.execute("proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--splice",
                "--tls-cert", "cert.pem", "--tls-key", "key.pem"));
        assertTrue(err.toString().contains("--splice cannot be combined with --tls-cert"), err.toString());

        ProxyConfig c = ProxyFile.parse("proxy.conf", List.of(
                "splice                    # a default for every listener",
                "listen 127.0.0.1:7000", "upstream 127.0.0.1:7001",
                "listen 127.0.0.1:7002", "upstream 127.0.0.1:7003", "splice off"));
        assertTrue(c.routes.get(0).splice);
        assertFalse(c.routes.get(1).splice);
        String e = assertThrows(IllegalArgumentException.class, () -> ProxyFile.parse("proxy.conf", List.of(
                "transport nio", "listen 127.0.0.1:7000", "upstream 127.0.0.1:7001", "splice on"))).getMessage();
        assertEquals("proxy.conf: --splice needs --transport epoll, not nio", e);
    }

    @Test
    void shouldWarnWhenOpenFilesOrPipePagesCapSplicedConnections() {
        assertTrue(ProxyCommand.spliceWarning(100, 20_000, 16_384).isEmpty());
        assertTrue(ProxyCommand.spliceWarning(1_000_000, -1, -1).isEmpty(), "limits unknown");
        String files = ProxyCommand.spliceWarning(10_000, 20_000, 0).orElseThrow();
        assertTrue(files.contains("allows about 3333 connections (6 files each"), files);
        assertFalse(files.contains("pipe-user-pages-soft"), files);
        String pages = ProxyCommand.spliceWarning(1_000, 20_000, 16_384).orElseThrow();
        assertTrue(pages.contains("past 512 connections fs.pipe-user-pages-soft"), pages);
        assertFalse(pages.contains("open-files"), pages);
    }

    // ---- helpers

    private static void writeThenFin(Socket s, byte[] b) {
        try {
            OutputStream out = s.getOutputStream();
            for (int off = 0; off < b.length; off += 64 * 1024) {
                out.write(b, off, Math.min(64 * 1024, b.length - off));
            }
            s.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads to EOF; returns the count. */
    private static long drain(InputStream in, CRC32 crc) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            crc.update(buf, 0, n);
            total += n;
        }
        return total;
    }

    /** Waits for the latch, but at most 3 s: if the path cannot hold everything, the test still goes on. */
    private static void await(CountDownLatch latch) throws IOException {
        try {
            latch.await(3, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** Pipe descriptors this JVM holds. */
    private static long pipeFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("pipe:");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
