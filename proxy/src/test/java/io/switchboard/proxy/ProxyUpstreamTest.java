package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Choosing upstreams: failover on refused connects, passive and active marking, least connections. */
@Timeout(30)
class ProxyUpstreamTest {
    private final ProxyFixture fx = new ProxyFixture();
    private final List<Socket> held = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        fx.close();
        for (Socket s : held) {
            s.close();
        }
    }

    @Test
    void shouldMarkRefusingUpstreamDownAndUseAnother() throws Exception {
        InetSocketAddress dead = refusingAddress();
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.eventLoops = 1;
        fx.config.route().failTimeoutSec = 10;
        fx.start(dead, echo.address());

        for (int i = 0; i < 6; i++) {
            Bytes.roundTrip(fx.connect(), "c" + i);
        }
        Upstream down = fx.proxy().upstreams().get(0);
        assertFalse(down.isUp(fx.clock.nowMs()));
        assertEquals(1, down.failures.sum(), "marked down after the first refusal, then skipped");
        assertEquals(1, fx.proxy().metrics().connectErrors("refused"));
        assertEquals(6, echo.accepted.get());
        assertTrue(fx.proxy().prometheus().contains("switchboard_proxy_upstream_up{listen=\"127.0.0.1:0\",upstream=\"" + down.label()
                + "\"} 0"));

        fx.clock.advanceSec(10);
        assertTrue(down.isUp(fx.clock.nowMs()), "tried again after --fail-timeout");
        Bytes.roundTrip(fx.connect(), "again");
        Bytes.roundTrip(fx.connect(), "and again");
        assertEquals(2, down.failures.sum(), "one more refusal marks it down again");
    }

    @Test
    void shouldCloseClientWhenEveryUpstreamRefuses() throws Exception {
        fx.config.route().retries = 5;
        fx.start(refusingAddress(), refusingAddress());
        Socket s = fx.connect();
        assertTrue(Bytes.closedByPeer(s));
        assertEquals(2, fx.proxy().metrics().connectErrors("refused"), "each upstream tried once");
        assertEquals(1, fx.proxy().metrics().refusals(ProxyMetrics.Refused.NO_UPSTREAM));
        ProxyFixture.await("released", () -> fx.proxy().metrics().active.get() == 0);
    }

    @Test
    void shouldMarkUpstreamsByActiveHealthCheck() throws Exception {
        TestUpstream a = fx.upstream(TestUpstream.ECHO);
        TestUpstream b = fx.upstream(TestUpstream.ECHO);
        fx.config.route().healthIntervalSec = 3600; // checks driven by the test
        fx.config.eventLoops = 1;
        fx.start(a.address(), b.address());
        fx.proxy().checkUpstreamsNow();
        long now = fx.clock.nowMs();
        assertTrue(fx.proxy().upstreams().get(0).isUp(now));
        assertTrue(fx.proxy().upstreams().get(1).isUp(now));

        b.close();
        ProxyFixture.await("b refuses connections", () -> TestUpstream.refuses(b.address()));
        fx.proxy().checkUpstreamsNow();
        assertFalse(fx.proxy().upstreams().get(1).isUp(now));
        fx.clock.advanceSec(3600);
        assertFalse(fx.proxy().upstreams().get(1).isUp(fx.clock.nowMs()), "down until a check connects");
        // Each check connected to a once; wait until a has seen both before counting forwarded connections.
        ProxyFixture.await("a saw both checks", () -> a.accepted.get() == 2);
        int before = a.accepted.get();
        for (int i = 0; i < 4; i++) {
            Bytes.roundTrip(fx.connect(), "c" + i);
        }
        assertEquals(before + 4, a.accepted.get(), "all new connections go to the healthy upstream");
        assertEquals(0, fx.proxy().metrics().connectErrors("refused"), "the down upstream was not even tried");
    }

    @Test
    void shouldPreferTheUpstreamWithFewestConnections() throws Exception {
        TestUpstream a = fx.upstream(TestUpstream.ECHO);
        TestUpstream b = fx.upstream(TestUpstream.ECHO);
        fx.config.route().balance = RouteConfig.Balance.LEAST;
        fx.start(a.address(), b.address());
        List<Socket> onA = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket s = fx.connect();
            Bytes.roundTrip(s, "c" + i);
            if (a.accepted.get() > onA.size()) {
                onA.add(s);
            }
        }
        assertEquals(2, a.accepted.get());
        assertEquals(2, b.accepted.get());
        for (Socket s : onA) {
            s.close();
        }
        Upstream ua = fx.proxy().upstreams().get(0);
        ProxyFixture.await("connections to a closed", () -> ua.activeConnections() == 0);
        for (int i = 0; i < 2; i++) {
            Bytes.roundTrip(fx.connect(), "d" + i);
        }
        assertEquals(4, a.accepted.get(), "both new connections went to the emptier upstream");
        assertEquals(2, b.accepted.get());
    }


    /**
     * An address on loopback where nothing listens, held (bound, not listening) until the test ends: connects are
     * refused at once, and no other socket can take its port meanwhile (a port given up could become the source
     * port of a connect to it: a self-connect, which succeeds).
     */
    private InetSocketAddress refusingAddress() throws IOException {
        Socket s = new Socket();
        held.add(s);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return (InetSocketAddress) s.getLocalSocketAddress();
    }
}
