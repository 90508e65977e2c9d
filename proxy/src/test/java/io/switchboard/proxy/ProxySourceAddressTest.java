package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Outbound connections spread over source addresses with IP_BIND_ADDRESS_NO_PORT, and a narrow per-socket port
 * range (IP_LOCAL_PORT_RANGE, 50 ports) shows what happens when a source runs out of ports. Needs Linux 6.3+.
 */
@Timeout(60)
class ProxySourceAddressTest {
    private static final int PORTS = 50;

    private final ProxyFixture fx = new ProxyFixture();
    /**
     * The 50-port slots lie inside the kernel's default ephemeral range (32768-60999): IP_LOCAL_PORT_RANGE only
     * narrows that range, it cannot leave it. The next slot to consider is random per JVM so that reruns avoid the
     * previous run's TIME_WAIT ports; a slot any socket uses is skipped.
     */
    private static final int SLOTS_FROM = 40_000;
    private static final int SLOTS = 380;
    private static final AtomicInteger NEXT_SLOT = new AtomicInteger(ThreadLocalRandom.current().nextInt(SLOTS));

    /** Picked by {@link #pickRange} once the test's upstream listens, so that its port cannot be in the range. */
    private int lo;
    private int hi;

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void shouldRefuseToStartWithASourceAddressThisMachineDoesNotHave() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        // 192.0.2.1 (TEST-NET-1) is on no interface here: every bind to it would fail as if out of ports.
        fx.config.sources = List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("192.0.2.1"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> fx.start(echo.address()));
        assertTrue(e.getMessage().startsWith("--source 192.0.2.1 is not an address of this machine ("),
                e.getMessage());
    }

    @Test
    void shouldRefuseAnUpstreamNoSourceCanReach() throws Exception {
        ProxyConfig c = new ProxyConfig();
        c.route().listen = new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        c.route().upstreams = List.of(new java.net.InetSocketAddress(InetAddress.getByName("::1"), 7000));
        c.sources = List.of(InetAddress.getByName("127.0.0.2"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                c::validate);
        assertTrue(e.getMessage().startsWith("upstream 0:0:0:0:0:0:0:1 is IPv6 and every --source is IPv4"),
                e.getMessage());
        c.sources = List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("::1"));
        c.validate(); // one of its family is enough
    }

    @Test
    void aConnectionLeavesFromASourceOfItsUpstreamsFamilyWhenTheSourcesMixBoth() throws Exception {
        // Sources of both families (for upstreams of both): the round robin took an IPv6 source for an IPv4
        // upstream every second connection, whose connect failed, counted against a healthy upstream (marked down).
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.sources = List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("::1"));
        fx.config.eventLoops = 1; // one round-robin cursor
        fx.config.route().healthIntervalSec = 3600; // checks driven by the test
        fx.start(echo.address());
        for (int i = 0; i < 6; i++) {
            Bytes.roundTrip(fx.connect(), "c" + i);
        }
        ProxyFixture.await("upstream accepted all", () -> echo.peers.size() == 6);
        for (InetSocketAddress p : echo.peers) {
            assertEquals("127.0.0.2", p.getAddress().getHostAddress(), "left from the IPv4 source");
        }
        fx.proxy().checkUpstreamsNow(); // a health check picks its source the same way
        fx.proxy().checkUpstreamsNow();
        ProxyMetrics m = fx.proxy().metrics();
        assertEquals(0, m.connectErrors("other"));
        assertEquals(0, m.upstreamMarkedDown.sum());
    }

    @Test
    void shouldRefuseTheConnectionAfterTheOnlySourceRunsOutOfPorts() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        pickRange(fx);
        fx.config.sources = List.of(InetAddress.getByName("127.0.0.2"));
        fx.config.sourcePorts = new int[] {lo, hi};
        fx.config.route().healthIntervalSec = 3600; // checks driven by the test
        fx.start(echo.address());
        assertTrue(fx.proxy().portRangeApplied(), "IP_LOCAL_PORT_RANGE accepted by this kernel");

        for (int i = 0; i < PORTS; i++) {
            Bytes.roundTrip(fx.connect(), "c" + i);
        }
        Socket refused = fx.connect();
        assertTrue(Bytes.closedByPeer(refused), "no port left on the only source: the client is closed");
        fx.proxy().checkUpstreamsNow(); // finds no port either

        ProxyMetrics m = fx.proxy().metrics();
        assertEquals(1, m.allSourcesExhausted.sum());
        assertEquals(1, m.sourcePortExhausted.sum());
        assertEquals(1, m.connectErrors("no_source_port"));
        assertTrue(fx.proxy().upstreams().get(0).isUp(fx.clock.nowMs()),
                "a port shortage, of a connection or of a health check, does not mark it down");
        assertEquals(0, m.upstreamMarkedDown.sum());
        assertPeersWithin(echo, Map.of("127.0.0.2", PORTS));
    }

    @Test
    void shouldSpreadOverTheNextSourceWhenOneIsExhausted() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        pickRange(fx);
        fx.config.sources = Addresses.sources("--source", "127.0.0.2-3");
        fx.config.sourcePorts = new int[] {lo, hi};
        fx.config.eventLoops = 1; // one round-robin cursor, so the order below is exact
        fx.start(echo.address());

        // Round robin over two sources with 50 ports each towards one upstream: 100 connections fit, evenly.
        for (int i = 0; i < 2 * PORTS; i++) {
            Bytes.roundTrip(fx.connect(), "c" + i);
        }
        assertPeersWithin(echo, Map.of("127.0.0.2", PORTS, "127.0.0.3", PORTS));
        assertEquals(0, fx.proxy().metrics().sourcePortExhausted.sum());

        Socket refused = fx.connect();
        assertTrue(Bytes.closedByPeer(refused), "both sources out of ports");
        ProxyMetrics m = fx.proxy().metrics();
        assertEquals(2, m.sourcePortExhausted.sum(), "tried one source, then the other");
        assertEquals(1, m.allSourcesExhausted.sum());
    }

    @Test
    void shouldUseTheOtherSourceWhenOneIsAlreadyFull() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        pickRange(fx);
        // First proxy: 127.0.0.2 only, filled to its 50 ports.
        fx.config.sources = List.of(InetAddress.getByName("127.0.0.2"));
        fx.config.sourcePorts = new int[] {lo, hi};
        fx.start(echo.address());
        for (int i = 0; i < PORTS; i++) {
            Bytes.roundTrip(fx.connect(), "a" + i);
        }
        // Second proxy to the same upstream: 127.0.0.2 first, then 127.0.0.3; the first source has no port left.
        try (ProxyFixture second = new ProxyFixture()) {
            second.config.route().listen = listenOutsideTheSlots();
            second.config.sources = Addresses.sources("--source", "127.0.0.2,127.0.0.3");
            second.config.sourcePorts = new int[] {lo, hi};
            second.config.eventLoops = 1;
            second.start(echo.address());
            for (int i = 0; i < 10; i++) {
                Bytes.roundTrip(second.connect(), "b" + i);
            }
            ProxyMetrics m = second.proxy().metrics();
            assertEquals(10, m.sourcePortExhausted.sum(), "each connection tried the full source first, then the other");
            assertEquals(0, m.allSourcesExhausted.sum());
            assertEquals(10, m.forwarded.sum());
        }
        assertPeersWithin(echo, Map.of("127.0.0.2", PORTS, "127.0.0.3", 10));
    }

    @Test
    void shouldFallBackToTheGlobalRangeWhenTheKernelRejectsThePortRange() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        pickRange(fx);
        ProxyConfig c = new ProxyConfig();
        c.sourcePorts = new int[] {hi, lo}; // the kernel answers EINVAL for lo > hi, as an old one does ENOPROTOOPT
        ProxyMetrics metrics = new ProxyMetrics();
        OutboundSockets outbound = new OutboundSockets(c, metrics);
        assertTrue(outbound.portRangeEnabled());
        io.netty.channel.EventLoopGroup group = c.transport.newGroup(1,
                new io.netty.util.concurrent.DefaultThreadFactory("fallback-test", true));
        try {
            io.netty.channel.EventLoop loop = group.next();
            io.netty.channel.Channel ch = loop.submit(() -> outbound.open(loop,
                    new io.netty.channel.ChannelInboundHandlerAdapter(), 2000)).get(5, java.util.concurrent.TimeUnit.SECONDS)
                    .sync().channel();
            ch.connect(echo.address()).sync();
            assertTrue(ch.isActive(), "the socket works without the per-socket range");
            ch.close().sync();
            assertTrue(!outbound.portRangeEnabled(), "switched off after the first rejection");
            assertEquals(0, metrics.portRangeApplied);
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    /**
     * The range, picked after the test's upstream listens (a listener's port inside it would leave the proxy 49 ports),
     * and the proxy's own listener put where no range lies.
     */
    private void pickRange(ProxyFixture proxy) throws IOException {
        lo = freeRange();
        hi = lo + PORTS - 1;
        proxy.config.route().listen = listenOutsideTheSlots();
    }

    /**
     * A loopback address with a port above the kernel's ephemeral range (61000-65535 are never handed out by the
     * kernel, so only a socket bound to one on purpose can hold it), free when looked at: outside every slot.
     */
    private static InetSocketAddress listenOutsideTheSlots() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(61_000, 65_536);
            if (noBlockingSocketIn(port, port)) {
                return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            }
        }
        throw new IllegalStateException("no free port between 61000 and 65535 for the proxy to listen on");
    }

    /**
     * A 50-port range inside the global ephemeral range (32768-60999) where no socket could take a port from the
     * proxy's connects: nothing listens there and nothing is bound to 127.0.0.2/3 or the wildcard. Other test
     * processes on the shared loopback (and this JVM's earlier tests, in TIME_WAIT) would otherwise take some of
     * the 50 ports and make the counts below wrong. Slots never repeat within one JVM.
     */
    private static int freeRange() {
        for (int attempt = 0; attempt < SLOTS; attempt++) {
            int from = SLOTS_FROM + Math.floorMod(NEXT_SLOT.getAndIncrement(), SLOTS) * PORTS;
            try {
                if (noBlockingSocketIn(from, from + PORTS - 1)) {
                    return from;
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free 50-port range between " + SLOTS_FROM + " and "
                + (SLOTS_FROM + SLOTS * PORTS - 1));
    }

    private static boolean noBlockingSocketIn(int from, int to) throws IOException {
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 4 || !f[0].endsWith(":")) {
                    continue; // header line
                }
                int colon = f[1].lastIndexOf(':');
                int port = Integer.parseInt(f[1].substring(colon + 1), 16);
                // Any socket with a local port in the range, in any state: a listener or a TIME_WAIT left by a
                // closed listener's connections holds the port's bind bucket, which connect() then skips.
                if (port >= from && port <= to) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Every upstream peer came from one of the expected sources, that many times, from a port in the range. */
    private void assertPeersWithin(TestUpstream echo, Map<String, Integer> expected) {
        ProxyFixture.await("upstream accepted all", () -> echo.peers.size()
                == expected.values().stream().mapToInt(Integer::intValue).sum());
        for (InetSocketAddress p : echo.peers) {
            assertTrue(p.getPort() >= lo && p.getPort() <= hi, "port " + p.getPort() + " outside " + lo + "-" + hi);
        }
        Map<String, Integer> bySource = echo.peers.stream().collect(Collectors.groupingBy(
                p -> p.getAddress().getHostAddress(), Collectors.summingInt(p -> 1)));
        assertEquals(expected, bySource);
    }
}
