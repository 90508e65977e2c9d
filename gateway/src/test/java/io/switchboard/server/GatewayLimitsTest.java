package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Admission limits and malformed input: each refusal is a {@code BYE} the client can read, then a close, and a
 * labelled counter in {@code /v1/stats} and {@code /metrics}.
 */
@Timeout(30)
class GatewayLimitsTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldRefuseConnectionsBeyondMaxConnections() throws Exception {
        gw.config.maxConnections = 2;
        gw.start();
        SwbTestClient a = gw.hello("a"); // welcomed one after the other: the server has counted each
        gw.hello("b");

        SwbTestClient third = gw.connect();
        String bye = third.readLine();
        assertTrue(bye != null && bye.matches("BYE 429 too many connections( retry=\\d+)?"), bye);
        third.expectEof();
        gw.assertRefusals("max_connections", 1);
        assertEquals(2, gw.stats().get("connections").asLong());

        a.leave();
        GatewayFixture.await(() -> gw.server().guard().open() == 1, "the server released the closed connection");
        gw.hello("c"); // room again
    }

    @Test
    void shouldRefuseSecondConnectionFromTheSameAddressButAdmitAnotherAddress() throws Exception {
        gw.config.maxConnectionsPerIp = 1;
        gw.start();
        gw.hello("first");

        SwbTestClient sameIp = gw.connectFrom("127.0.0.1");
        sameIp.expectLine("BYE 429 too many connections from your address");
        sameIp.expectEof();

        SwbTestClient otherIp = gw.connectFrom("127.0.0.2");
        otherIp.hello("other");
        assertEquals("127.0.0.2", gw.clientInfo("other").get("remote").asText().split(":")[0]);
        gw.assertRefusals("per_ip_limit", 1);

        otherIp.leave();
        GatewayFixture.await(() -> gw.server().guard().trackedAddresses() == 1,
                "the per-address entry of a closed connection is dropped");
    }

    @Test
    void shouldRefuseConnectionsFasterThanTheAcceptRate() throws Exception {
        gw.config.acceptRatePerSec = 2;
        gw.start();
        gw.hello("a");
        gw.hello("b");

        SwbTestClient third = gw.connect();
        third.expectLine("BYE 429 too fast");
        third.expectEof();
        gw.assertRefusals("accept_rate", 1);

        gw.clock.advanceSec(1); // a new second, a new allowance
        gw.hello("c");
    }

    @Test
    void shouldCloseConnectionWhoseFirstFrameIsNotHello() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.send("PING");
        assertEquals("BYE 400 HELLO must be the first frame", c.readLine());
        c.expectEof();
        gw.assertRefusals("malformed_frame", 1);
    }

    @Test
    void shouldIgnoreEmptyLinesAndCloseOnALineStartingWithASpace() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("blank");
        c.send("");
        c.sync(); // still open: an extra Enter in telnet or nc is harmless
        c.send(" PING");
        c.expectLine("BYE 400 line starts with a space");
        c.expectEof();
        gw.assertRefusals("malformed_frame", 1);
    }

    @Test
    void shouldCloseConnectionWithAControlLineLongerThanMaxLine() throws Exception {
        gw.config.maxLineBytes = 64;
        gw.start();
        SwbTestClient c = gw.connect();
        c.send("HELLO " + "a".repeat(64)); // 71 bytes with the LF
        assertEquals("BYE 413 control line longer than 64 bytes", c.readLine());
        c.expectEof();
        gw.assertRefusals("frame_too_large", 1);
    }

    @Test
    void shouldCloseConnectionThatStreamsALineWithoutEnd() throws Exception {
        gw.config.maxLineBytes = 64;
        gw.start();
        SwbTestClient c = gw.hello("streamer");
        c.sendRaw("x".repeat(64).getBytes(StandardCharsets.US_ASCII)); // no LF at all
        assertEquals("BYE 413 control line longer than 64 bytes", c.readLine());
        c.expectEof();
    }

    @Test
    void shouldCloseConnectionThatSendsAPayloadLargerThanMaxPayload() throws Exception {
        gw.config.maxPayloadBytes = 16;
        gw.start();
        SwbTestClient c = gw.hello("big");
        c.send("SEND s1 17");
        c.expectLine("BYE 413 ");
        c.expectEof();
        gw.assertRefusals("frame_too_large", 1);
    }

    @Test
    void shouldCloseConnectionWhosePayloadIsNotFollowedByLf() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("sloppy");
        c.sendRaw("SEND s1 3\nabcX".getBytes(StandardCharsets.US_ASCII));
        c.expectLine("BYE 400 ");
        c.expectEof();
    }

    @Test
    void shouldCloseConnectionThatAcksWithoutSeq() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("acker");
        c.send("ACK x");
        c.expectLine("BYE 400 ");
        c.expectEof();
    }

    @Test
    void shouldAnswerInvalidTopicWithErrAndKeepConnection() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("topical");
        c.send("SUB bad/topic");
        c.expectLine("ERR 400 SUB ");
        c.sync();
    }

    @Test
    void shouldRefuseSubscriptionsBeyondTheLimit() throws Exception {
        gw.config.maxSubscriptionsPerClient = 2;
        gw.start();
        SwbTestClient c = gw.hello("greedy");
        c.send("SUB t1");
        c.send("SUB t2");
        c.send("SUB t3");
        assertEquals("OK SUB t1", c.readLine());
        assertEquals("OK SUB t2", c.readLine());
        c.expectLine("ERR 429 SUB t3 ");
        c.send("SUB t1");
        assertEquals("OK SUB t1", c.readLine(), "re-subscribing an existing topic is not a new subscription");
        gw.assertRefusals("too_many_subscriptions", 1);
    }
}
