package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bytes go through intact, in both directions, for one big stream and for many connections at once. */
@Timeout(60)
class ProxyForwardingTest {
    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void shouldForwardAFewMegabytesIntactBothWays() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.start(echo.address());
        byte[] sent = Bytes.random(42, 4 * 1024 * 1024 + 123);
        Socket s = fx.connect();
        Bytes.echoed(s, sent, true); // the echo comes back while we still send
        assertEquals(-1, s.getInputStream().read(), "the upstream's FIN comes through after the data");
        ProxyFixture.await("byte counters", () -> fx.proxy().metrics().bytesToClient.sum() == sent.length);
        assertEquals(sent.length, fx.proxy().metrics().bytesToUpstream.sum());
        assertTrue(echo.failures.isEmpty(), () -> echo.failures.toString());
    }

    @Test
    void shouldForwardManyConcurrentConnectionsIntact() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.start(echo.address());
        int connections = 200;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                int seed = i;
                Socket s = fx.connect();
                results.add(pool.submit(() -> {
                    byte[] sent = Bytes.random(seed, 20_000 + seed * 97);
                    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                        try {
                            s.getOutputStream().write(sent);
                            s.shutdownOutput();
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    }, pool);
                    InputStream in = s.getInputStream();
                    byte[] got = Bytes.readExactly(in, sent.length);
                    writer.get(30, TimeUnit.SECONDS);
                    assertArrayEquals(sent, got, "connection " + seed);
                    assertEquals(-1, in.read());
                    return null;
                }));
            }
            for (Future<?> f : results) {
                f.get(40, TimeUnit.SECONDS);
            }
        }
        assertEquals(connections, echo.accepted.get());
        assertEquals(connections, fx.proxy().metrics().forwarded.sum());
        ProxyFixture.await("all connections closed", () -> fx.proxy().metrics().active.get() == 0);
    }

    @Test
    void shouldHoldNoBufferWhileConnectionsAreIdle() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.start(echo.address());
        List<Socket> clients = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Socket s = fx.connect();
            Bytes.roundTrip(s, "ping " + i);
            clients.add(s);
        }
        assertEquals(20, fx.proxy().connections());
        assertEquals(0, fx.proxy().queuedBytes());
    }
}
