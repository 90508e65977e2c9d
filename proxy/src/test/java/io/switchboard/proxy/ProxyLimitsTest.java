package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.options.CidrList;
import java.net.Socket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Protection: connection limits, allow and deny lists, the idle timeout. */
@Timeout(30)
class ProxyLimitsTest {
    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void shouldCloseConnectionsBeyondMaxConnections() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.maxConnections = 2;
        fx.start(echo.address());
        Socket a = fx.connect();
        Bytes.roundTrip(a, "a");
        Bytes.roundTrip(fx.connect(), "b");
        assertTrue(Bytes.closedByPeer(fx.connect()));
        assertEquals(1, fx.proxy().metrics().refusals(ProxyMetrics.Refused.MAX_CONNECTIONS));
        assertEquals(2, echo.accepted.get(), "the refused connection never reached the upstream");

        a.close();
        ProxyFixture.await("a released", () -> fx.proxy().metrics().active.get() == 1);
        Bytes.roundTrip(fx.connect(), "c");
    }

    @Test
    void theOpenFileLimitCapsTheConnectionsSoThatTheOnesBeyondAreRefusedAndCounted() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        // Files for two connections beyond the reserve (two sockets each); --max-connections left at a million.
        fx.config.openFilesLimit = io.switchboard.doctor.ConnectionCost.RESERVED_FDS + 5;
        fx.start(echo.address());
        assertEquals(2, fx.config.connectionLimit());
        Bytes.roundTrip(fx.connect(), "a");
        Bytes.roundTrip(fx.connect(), "b");
        assertTrue(Bytes.closedByPeer(fx.connect()), "refused, not left to hang where accept would fail");
        assertEquals(1, fx.proxy().metrics().refusals(ProxyMetrics.Refused.MAX_CONNECTIONS));
        fx.config.route().splice = true;
        assertEquals(1, fx.config.connectionLimit(), "with splice a connection holds two pipes more");
    }

    @Test
    void shouldLimitConnectionsPerSourceAddress() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.maxConnectionsPerIp = 1;
        fx.start(echo.address());
        Bytes.roundTrip(fx.connectFrom("127.0.0.1"), "first");
        assertTrue(Bytes.closedByPeer(fx.connectFrom("127.0.0.1")));
        Bytes.roundTrip(fx.connectFrom("127.0.0.2"), "other address");
        assertEquals(1, fx.proxy().metrics().refusals(ProxyMetrics.Refused.PER_IP_LIMIT));
    }

    @Test
    void shouldLimitNewConnectionsPerSecondPerSourceAddress() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.ratePerIp = 2;
        fx.start(echo.address());
        Bytes.roundTrip(fx.connectFrom("127.0.0.1"), "1");
        Bytes.roundTrip(fx.connectFrom("127.0.0.1"), "2");
        assertTrue(Bytes.closedByPeer(fx.connectFrom("127.0.0.1")), "third in the same second");
        Bytes.roundTrip(fx.connectFrom("127.0.0.2"), "another address has its own budget");
        assertEquals(1, fx.proxy().metrics().refusals(ProxyMetrics.Refused.RATE_PER_IP));

        fx.advanceSec(1);
        Bytes.roundTrip(fx.connectFrom("127.0.0.1"), "next second");
        fx.advanceSec(5);
        assertEquals(0, fx.proxy().rate.trackedAddresses(), "the sweep forgets quiet addresses");
        assertEquals(4, echo.accepted.get());
    }

    @Test
    void shouldRefuseDeniedAndNotAllowedSources() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.route().allow = CidrList.parse("--allow", "127.0.0.0/30");
        fx.config.route().deny = CidrList.parse("--deny", "127.0.0.2");
        fx.start(echo.address());
        Bytes.roundTrip(fx.connectFrom("127.0.0.1"), "allowed");
        assertTrue(Bytes.closedByPeer(fx.connectFrom("127.0.0.2")), "denied wins over allowed");
        assertTrue(Bytes.closedByPeer(fx.connectFrom("127.0.0.9")), "outside the allow list");
        assertEquals(2, fx.proxy().metrics().refusals(ProxyMetrics.Refused.DENIED));
        assertEquals(1, echo.accepted.get());
    }

    @Test
    void shouldCloseIdleConnectionOnTheSweepAfterTheTimeout() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.route().idleTimeoutSec = 60;
        fx.start(echo.address());
        Socket idle = fx.connect();
        Bytes.roundTrip(idle, "x");
        fx.advanceSec(30);
        Socket busy = fx.connect();
        Bytes.roundTrip(busy, "y");
        fx.advanceSec(29);
        Bytes.roundTrip(idle, "still alive at 59 s");
        fx.advanceSec(60);
        assertTrue(Bytes.closedByPeer(idle));
        assertTrue(Bytes.closedByPeer(busy));
        assertEquals(2, fx.proxy().metrics().idleClosed.sum());
        ProxyFixture.await("upstream sockets closed", () -> echo.open() == 0);
    }
}
