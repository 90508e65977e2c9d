package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.fail;

import io.switchboard.clock.ManualClock;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One proxy for one test: a config to adjust before {@link #start}, a manual clock, and every client socket and
 * upstream the test opened; {@link #close} closes them all. Not thread-safe.
 */
final class ProxyFixture implements AutoCloseable {
    static final long START_MS = 1_700_000_000_000L;
    private static final long CONDITION_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    final ManualClock clock = new ManualClock(START_MS);
    final ProxyConfig config = new ProxyConfig();
    private final List<Closeable> closeables = new ArrayList<>();
    private ProxyServer proxy;

    ProxyFixture() {
        config.route().listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        config.clock = clock;
        config.eventLoops = 2;
        config.route().connectTimeoutMs = 2000;
    }

    TestUpstream upstream(TestUpstream.Behaviour behaviour) throws IOException {
        TestUpstream u = new TestUpstream(behaviour);
        closeables.add(u);
        return u;
    }

    ProxyServer start(InetSocketAddress... upstreams) throws InterruptedException {
        config.route().upstreams = List.of(upstreams);
        proxy = ProxyServer.start(config);
        return proxy;
    }

    ProxyServer proxy() {
        return proxy;
    }

    Socket connect() throws IOException {
        return connectFrom(null);
    }

    /** A client socket to the proxy from {@code localAddress} (e.g. 127.0.0.2), or the default when null. */
    Socket connectFrom(String localAddress) throws IOException {
        Socket s = new Socket();
        closeables.add(s);
        if (localAddress != null) {
            s.bind(new InetSocketAddress(localAddress, 0));
        }
        s.setSoTimeout(10_000);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()), 5000);
        return s;
    }

    /** Moves the clock and runs one sweep on every loop. */
    void advanceSec(long seconds) throws InterruptedException {
        clock.advanceSec(seconds);
        proxy.tickNow();
    }

    /** Waits, bounded, until {@code condition} holds; polls without sleeping longer than a millisecond. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + CONDITION_TIMEOUT_NS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    @Override
    public void close() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        for (Closeable c : closeables) {
            c.close();
        }
    }
}
