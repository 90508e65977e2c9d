package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Drain: no new connections, open ones keep forwarding until they end or the drain timeout. */
@Timeout(30)
class ProxyDrainTest {
    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void shouldKeepForwardingOpenConnectionsAndStopWhenTheyEnd() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.drainTimeoutSec = 60;
        fx.start(echo.address());
        Socket s = fx.connect();
        Bytes.roundTrip(s, "before");

        fx.proxy().drain();
        assertTrue(fx.proxy().draining());
        assertThrows(ConnectException.class, fx::connect, "the listener is closed");
        Bytes.roundTrip(s, "during the drain");
        assertTrue(!fx.proxy().drained().isDone());

        s.shutdownOutput();
        assertEquals(-1, s.getInputStream().read());
        fx.proxy().drained().get(10, TimeUnit.SECONDS);
        assertEquals(0, fx.proxy().metrics().drainClosed.sum());
    }

    @Test
    void shouldCloseWhatIsLeftAtTheDrainTimeout() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.drainTimeoutSec = 1;
        fx.start(echo.address());
        Socket s = fx.connect();
        Bytes.roundTrip(s, "stay");
        fx.proxy().drain().get(15, TimeUnit.SECONDS);
        assertTrue(Bytes.closedByPeer(s));
        assertEquals(1, fx.proxy().metrics().drainClosed.sum());
    }
}
