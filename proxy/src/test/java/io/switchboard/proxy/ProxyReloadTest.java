package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link ProxyServer#reload}: what changes, what stays, and that no open connection is dropped. */
@Timeout(30)
class ProxyReloadTest {
    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    /** A copy of the fixture's configuration, as a re-read file would give. */
    private ProxyConfig next() {
        ProxyConfig c = new ProxyConfig();
        ProxyConfig cur = fx.config;
        c.eventLoops = cur.eventLoops;
        c.clock = cur.clock;
        RouteConfig r = c.route();
        r.listen = cur.route().listen;
        r.upstreams = cur.route().upstreams;
        r.connectTimeoutMs = cur.route().connectTimeoutMs;
        return c;
    }

    @Test
    void shouldSendNewConnectionsToNewUpstreamsWhileOpenOnesKeepForwarding() throws Exception {
        TestUpstream a = fx.upstream(TestUpstream.ECHO);
        TestUpstream b = fx.upstream(TestUpstream.ECHO);
        fx.start(a.address());
        Socket before = fx.connect();
        Bytes.roundTrip(before, "to a");
        int port = fx.proxy().port();

        ProxyConfig c = next();
        c.route().upstreams = List.of(b.address());
        fx.proxy().reload(c);

        assertEquals(port, fx.proxy().port(), "the listener is kept, not rebound");
        Bytes.roundTrip(fx.connect(), "to b");
        Bytes.roundTrip(before, "still to a after the reload");
        assertEquals(1, a.accepted.get());
        assertEquals(1, b.accepted.get());
        assertEquals(1, fx.proxy().metrics().reloads.sum());
        assertEquals(List.of(b.address()), fx.proxy().upstreams().stream().map(u -> u.address).toList());
    }

    @Test
    void shouldKeepUpstreamStateForAddressesStillListed() throws Exception {
        TestUpstream a = fx.upstream(TestUpstream.ECHO);
        TestUpstream b = fx.upstream(TestUpstream.ECHO);
        fx.start(a.address());
        Socket open = fx.connect();
        Bytes.roundTrip(open, "x");
        Upstream before = fx.proxy().upstreams().get(0);

        ProxyConfig c = next();
        c.route().upstreams = List.of(b.address(), a.address());
        fx.proxy().reload(c);

        Upstream after = fx.proxy().upstreams().get(1);
        assertTrue(before == after, "same object: counters and up/down state survive");
        assertEquals(1, after.activeConnections());
        open.close();
        ProxyFixture.await("released on the kept upstream", () -> after.activeConnections() == 0);
    }

    @Test
    void shouldForgetAFailedActiveCheckWhenAReloadSwitchesChecksOff() throws Exception {
        TestUpstream a = fx.upstream(TestUpstream.ECHO);
        TestUpstream b = fx.upstream(TestUpstream.ECHO);
        fx.config.route().healthIntervalSec = 3600; // checks driven by the test
        fx.start(a.address(), b.address());
        b.close();
        ProxyFixture.await("b refuses connections", () -> TestUpstream.refuses(b.address()));
        fx.proxy().checkUpstreamsNow();
        assertFalse(fx.proxy().upstreams().get(1).isUp(fx.clock.nowMs()), "down by the check");

        fx.proxy().reload(next()); // the same upstreams, --health-interval 0
        ProxyFixture.await("no check will ever clear it: it must not stay down until a restart",
                () -> fx.proxy().upstreams().get(1).isUp(fx.clock.nowMs()));
    }

    @Test
    void shouldApplyNewLimitsAndIdleTimeoutToOpenConnections() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.maxConnections = 10;
        fx.config.route().idleTimeoutSec = 3600;
        fx.start(echo.address());
        Socket idle = fx.connect();
        Bytes.roundTrip(idle, "x");

        ProxyConfig c = next();
        c.maxConnections = 1;
        c.route().idleTimeoutSec = 60;
        fx.proxy().reload(c);

        assertTrue(Bytes.closedByPeer(fx.connect()), "max-connections 1 with one open");
        // The FIN goes out before the refused connection leaves its loop: a sweep in between would time it out too.
        ProxyFixture.await("the refused connection released", () -> fx.proxy().metrics().active.get() == 1);
        fx.advanceSec(61);
        assertTrue(Bytes.closedByPeer(idle), "the new idle timeout reached the open connection");
        assertEquals(1, fx.proxy().metrics().idleClosed.sum());
    }

    @Test
    void shouldBindAddedListenersAndCloseRemovedOnesWithoutDroppingTheirConnections() throws Exception {
        TestUpstream a = fx.upstream(TestUpstream.ECHO);
        TestUpstream b = fx.upstream(TestUpstream.ECHO);
        fx.start(a.address());
        Socket onFirst = fx.connect();
        Bytes.roundTrip(onFirst, "first listener");
        String firstName = fx.config.route().name();

        ProxyConfig c = next();
        c.routes.clear();
        RouteConfig second = new RouteConfig();
        second.listen = new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0);
        second.upstreams = List.of(b.address());
        c.routes.add(second);
        fx.proxy().reload(c);

        int port2 = fx.proxy().port(second.name());
        try (Socket s = new Socket("127.0.0.2", port2)) {
            s.setSoTimeout(5000);
            Bytes.roundTrip(s, "second listener");
        }
        assertThrows(IllegalArgumentException.class, () -> fx.proxy().port(firstName));
        Bytes.roundTrip(onFirst, "the removed listener's connection runs on");
        assertEquals(1, b.accepted.get());
    }

    @Test
    void shouldRefuseWholeReloadWhenSomethingIsWrongAndKeepRunning() throws Exception {
        TestUpstream a = fx.upstream(TestUpstream.ECHO);
        TestUpstream b = fx.upstream(TestUpstream.ECHO);
        fx.start(a.address());

        ProxyConfig fixed = next();
        fixed.route().upstreams = List.of(b.address());
        fixed.eventLoops = fx.config.eventLoops + 1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fx.proxy().reload(fixed));
        assertTrue(e.getMessage().contains("event-loops"), e.getMessage());

        ProxyConfig badTls = next();
        badTls.route().upstreams = List.of(b.address());
        badTls.route().tlsCert = java.nio.file.Path.of("/nonexistent/cert.pem");
        badTls.route().tlsKey = java.nio.file.Path.of("/nonexistent/key.pem");
        e = assertThrows(IllegalArgumentException.class, () -> fx.proxy().reload(badTls));
        assertTrue(e.getMessage().contains("--tls-cert"), e.getMessage());

        ProxyConfig perIpOn = next();
        perIpOn.maxConnectionsPerIp = 5;
        e = assertThrows(IllegalArgumentException.class, () -> fx.proxy().reload(perIpOn));
        assertTrue(e.getMessage().contains("restart"), e.getMessage());

        Bytes.roundTrip(fx.connect(), "still the old upstream");
        assertEquals(1, a.accepted.get());
        assertEquals(0, b.accepted.get());
        assertEquals(3, fx.proxy().metrics().reloadFailures.sum());
        assertEquals(0, fx.proxy().metrics().reloads.sum());
    }
}
