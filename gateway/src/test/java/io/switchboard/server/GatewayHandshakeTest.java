package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.switchboard.transport.Transport;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** SWB/1 handshake, heartbeats and the small commands, over real sockets. */
@Timeout(30)
class GatewayHandshakeTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void shouldWelcomeClientAndDeliverPushOnEveryTransport(Transport transport) throws Exception {
        assumeTrue(transport != Transport.IO_URING || IoUring.isAvailable(), "io_uring is not available here");
        assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "epoll is not available here");
        gw.config.transport = transport;
        gw.start();

        SwbTestClient alice = gw.connect();
        assertEquals("WELCOME alice v=1 hb=60 seq=0", alice.hello("alice"));
        alice.send("PING");
        assertEquals("PONG", alice.readLine());

        ApiClient.Response r = gw.push("alice", "hello");
        assertEquals(200, r.status(), r.body());
        assertEquals(1, r.json().get("seq").asLong());
        assertTrue(r.json().get("delivered").asBoolean());
        SwbTestClient.Msg m = alice.readMsg();
        assertEquals(1, m.seq());
        assertEquals("hello", m.text());
        alice.ack(1);
        alice.sync();

        JsonNode info = gw.clientInfo("alice");
        assertEquals(1, info.get("acked").asLong());
        assertEquals(0, info.get("queued").asInt());
    }

    @Test
    void shouldClampRequestedHeartbeatToServerLimits() throws Exception {
        gw.config.heartbeatMinSec = 5;
        gw.config.heartbeatMaxSec = 300;
        gw.config.heartbeatDefaultSec = 60;
        gw.start();

        assertEquals("WELCOME low v=1 hb=5 seq=0", gw.connect().hello("low", "hb=1"));
        assertEquals("WELCOME high v=1 hb=300 seq=0", gw.connect().hello("high", "hb=100000"));
        assertEquals("WELCOME within v=1 hb=30 seq=0", gw.connect().hello("within", "hb=30"));
        assertEquals("WELCOME unasked v=1 hb=60 seq=0", gw.connect().hello("unasked"));
        assertEquals("WELCOME none v=1 hb=5 seq=0", gw.connect().hello("none", "v=1", "hb=0"),
                "no heartbeats only where --hb-min 0 allows it");
    }

    @Test
    void shouldAnswerEveryPingWithPong() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("pinger");
        for (int i = 0; i < 3; i++) {
            c.send("PING");
        }
        for (int i = 0; i < 3; i++) {
            assertEquals("PONG", c.readLine());
        }
    }

    @Test
    void shouldIgnoreCarriageReturnBeforeLineFeed() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.sendRaw("HELLO telnet hb=30\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("WELCOME telnet v=1 hb=30 seq=0", c.readLine());
        c.sendRaw("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("PONG", c.readLine());
    }

    @Test
    void shouldProcessFramesSentInTheSameWriteAsHello() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.sendRaw("HELLO eager\nPING\nSUB news\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("WELCOME eager v=1 hb=60 seq=0", c.readLine());
        assertEquals("PONG", c.readLine());
        assertEquals("OK SUB news", c.readLine());
    }

    @Test
    void shouldProcessFramesSentInTheSameWriteAsHelloOfAKnownClient() throws Exception {
        gw.start();
        // A retained push makes the session exist before the connection: its handshake completes asynchronously.
        assertEquals(200, gw.api().post("/v1/clients/known/messages?ttl=60", "kept").status());
        SwbTestClient c = gw.connect();
        c.sendRaw("HELLO known\nPING\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("WELCOME known v=1 hb=60 seq=1", c.readLine());
        assertEquals("kept", c.readMsg().text());
        assertEquals("PONG", c.readLine());
    }

    @Test
    void shouldAcceptHelloSplitAcrossWrites() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.sendRaw("HEL".getBytes(StandardCharsets.US_ASCII));
        c.sendRaw("LO split hb=".getBytes(StandardCharsets.US_ASCII));
        c.sendRaw("30\nPI".getBytes(StandardCharsets.US_ASCII));
        c.sendRaw("NG\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("WELCOME split v=1 hb=30 seq=0", c.readLine());
        assertEquals("PONG", c.readLine());
    }

    @Test
    void shouldAcceptControlLineOfExactlyMaxLineBytesIncludingLf() throws Exception {
        gw.config.maxLineBytes = 64;
        gw.start();
        String line = "HELLO edge x=";
        line = line + "y".repeat(63 - line.length()); // 63 bytes + LF = 64; unknown options are ignored
        SwbTestClient c = gw.connect();
        c.send(line);
        assertEquals("WELCOME edge v=1 hb=60 seq=0", c.readLine());
    }

    @Test
    void shouldCloseConnectionWhoseHelloAsksForAnotherProtocolVersion() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.send("HELLO future v=2");
        c.expectLine("BYE 400 ");
        c.expectEof();
    }

    @Test
    void shouldCloseConnectionWhoseHelloHasAnInvalidClientId() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.send("HELLO bad/id");
        c.expectLine("BYE 400 ");
        c.expectEof();
    }

    @Test
    void shouldRefuseTheClientIdsDotAndDotDot() throws Exception {
        gw.start();
        for (String id : new String[] {".", ".."}) {
            SwbTestClient c = gw.connect();
            c.send("HELLO " + id);
            assertEquals("BYE 400 client id must be 1-128 characters of [A-Za-z0-9._:@-]", c.readLine(), id);
            c.expectEof();
        }
        assertEquals(0, gw.server().registry().size(), "no session for either");
        assertEquals("WELCOME ... v=1 hb=60 seq=0", gw.connect().hello("..."), "only those two are refused");
    }

    @Test
    void shouldAnswerSecondHelloWithErrAndKeepConnection() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("twice");
        c.send("HELLO twice");
        assertEquals("ERR 400 already welcomed", c.readLine());
        c.sync();
    }

    @Test
    void shouldAnswerUnknownCommandWithErrAndKeepConnection() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("curious");
        c.send("FROB 1 2");
        assertEquals("ERR 400 unknown command FROB", c.readLine());
        c.sync();
    }

    @Test
    void shouldConfirmSubscribeAndUnsubscribe() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("reader");
        c.send("SUB news");
        assertEquals("OK SUB news", c.readLine());
        c.send("UNSUB news");
        assertEquals("OK UNSUB news", c.readLine());
    }

    @Test
    void shouldNackSendWhenNoUpstreamIsConfigured() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("sender");
        byte[] payload = {'a', '\n', 0, 'b'};
        c.sendRaw("SEND s-1 4\n".getBytes(StandardCharsets.US_ASCII));
        c.sendRaw(payload);
        c.sendRaw(new byte[] {'\n'});
        assertEquals("NACK s-1 503 no upstream configured", c.readLine());
        c.sync(); // the payload with LF and zero inside was framed by length, not read as commands
        assertEquals(1, gw.stats().path("messages").path("sends_received").asLong());
    }

    @Test
    void shouldCloseConnectionWhenClientSaysBye() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("leaver");
        c.leave();
        GatewayFixture.await(() -> gw.server().registry().size() == 0, "the closed connection is processed");
        assertEquals(404, gw.api().get("/v1/clients/leaver").status(), "nothing retained: the client is forgotten");
    }

    @Test
    void shouldNameTheNodeInWelcomeWhenConfigured() throws Exception {
        gw.config.nodeName = "node-1";
        gw.start();
        assertEquals("WELCOME named v=1 hb=60 seq=0 node=node-1", gw.connect().hello("named"));
    }

    @Test
    void shouldAcceptClientIdOf128BytesAndRefuse129() throws Exception {
        gw.start();
        String longest = "a".repeat(128);
        assertEquals("WELCOME " + longest + " v=1 hb=60 seq=0", gw.connect().hello(longest));
        SwbTestClient c = gw.connect();
        c.send("HELLO " + "a".repeat(129));
        c.expectLine("BYE 400 ");
        c.expectEof();
    }

    @Test
    void shouldAcceptEveryAllowedIdentifierCharacter() throws Exception {
        gw.start();
        String id = "Az09._:@-";
        assertEquals("WELCOME " + id + " v=1 hb=60 seq=0", gw.connect().hello(id));
    }
}
