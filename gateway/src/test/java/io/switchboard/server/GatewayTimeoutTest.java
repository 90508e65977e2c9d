package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.metrics.Refusal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Handshake and idle deadlines, driven by the manual clock and {@code tickNow()}: nothing here sleeps. */
@Timeout(30)
class GatewayTimeoutTest {
    private final GatewayFixture gw = new GatewayFixture();

    @BeforeEach
    void configureHeartbeats() {
        gw.config.heartbeatMinSec = 5;
        gw.config.idleGraceSec = 10;
        gw.config.handshakeTimeoutSec = 10;
    }

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldCloseIdleConnectionAfterTwiceTheHeartbeatPlusGrace() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        assertEquals("WELCOME idler v=1 hb=5 seq=0", c.hello("idler", "hb=5"));

        gw.advanceSec(2 * 5 + 10 - 1);
        assertEquals(0, idleTimeouts(), "still within 2*hb + grace");
        gw.advanceSec(2);

        assertEquals("BYE 408 idle", c.readLine());
        c.expectEof();
        assertEquals(1, idleTimeouts());
        gw.assertRefusals("idle_timeout", 1);
    }

    @Test
    void shouldKeepConnectionThatPingsEveryHeartbeat() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.hello("lively", "hb=5");
        for (int i = 0; i < 10; i++) { // 50 s in all, well past 2*hb + grace
            gw.advanceSec(5);
            c.sync();
        }
        assertEquals(0, idleTimeouts());
    }

    @Test
    void shouldCountAcksAsActivity() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.hello("acker", "hb=5");
        gw.push("acker", "m");
        c.readMsg();
        gw.advanceSec(15);
        c.ack(1);
        // No PING here, it would count as activity itself: wait until the server has read the ACK.
        GatewayFixture.await(() -> gw.server().registry().pushes().info("acker").join().ackedSeq() == 1,
                "the server processed the ACK");
        gw.advanceSec(15); // 30 s after HELLO but only 15 s after the ACK
        assertEquals(0, idleTimeouts());
        c.sync();
    }

    @Test
    void shouldNeverIdleCloseClientThatAskedForNoHeartbeats() throws Exception {
        gw.config.heartbeatMinSec = 0; // the operator allows it
        gw.start();
        SwbTestClient c = gw.connect();
        assertEquals("WELCOME quiet v=1 hb=0 seq=0", c.hello("quiet", "hb=0"));
        gw.advanceSec(100_000);
        assertEquals(0, idleTimeouts());
        c.sync();
    }

    @Test
    void shouldCloseConnectionThatSendsNoHelloWithinTheHandshakeTimeout() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        // The server must have seen the connection before time moves, or its deadline would start later.
        GatewayFixture.await(() -> gw.server().guard().open() == 1, "the server accepted the connection");

        gw.advanceSec(9);
        assertEquals(0, handshakeTimeouts(), "still within the handshake timeout");
        gw.advanceSec(2);

        assertEquals("BYE 408 handshake timeout", c.readLine());
        c.expectEof();
        gw.assertRefusals("handshake_timeout", 1);
    }

    @Test
    void shouldCloseConnectionWhoseHelloIsIncompleteAtTheHandshakeTimeout() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.sendRaw("HELLO slo".getBytes(StandardCharsets.US_ASCII));
        GatewayFixture.await(() -> gw.server().guard().open() == 1, "the server accepted the connection");
        gw.advanceSec(11);
        assertEquals("BYE 408 handshake timeout", c.readLine());
        c.expectEof();
    }

    @Test
    void shouldNotApplyTheHandshakeTimeoutAfterWelcome() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.hello("welcomed", "hb=60");
        gw.advanceSec(11);
        assertEquals(0, handshakeTimeouts());
        c.sync();
    }

    @Test
    void shouldCloseIdleConnectionWhoseDeadlineIsBeyondTheTimingWheelSpan() throws Exception {
        gw.config.heartbeatMaxSec = 3600;
        gw.start();
        SwbTestClient c = gw.connect();
        assertEquals("WELCOME patient v=1 hb=3600 seq=0", c.hello("patient", "hb=3600"));
        long idleLimitSec = 2 * 3600 + 10;
        for (long t = 0; t < idleLimitSec - 1; t += 1000) {  // round the 1024-slot wheel several times
            gw.advanceSec(Math.min(1000, idleLimitSec - 1 - t));
        }
        assertEquals(0, idleTimeouts(), "still within 2*hb + grace");
        gw.advanceSec(2);
        assertEquals("BYE 408 idle", c.readLine());
        c.expectEof();
    }

    private long idleTimeouts() {
        return gw.server().metrics().refusals(Refusal.IDLE_TIMEOUT);
    }

    private long handshakeTimeouts() {
        return gw.server().metrics().refusals(Refusal.HANDSHAKE_TIMEOUT);
    }
}
