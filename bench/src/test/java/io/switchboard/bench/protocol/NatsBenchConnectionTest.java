package io.switchboard.bench.protocol;

import static io.switchboard.bench.protocol.Wire.ascii;
import static io.switchboard.bench.protocol.Wire.feed;
import static io.switchboard.bench.protocol.Wire.feedByteByByte;
import static io.switchboard.bench.protocol.Wire.inSeconds;
import static io.switchboard.bench.protocol.Wire.written;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NatsBenchConnectionTest {
    private static final String INFO = "INFO {\"server_id\":\"X\",\"version\":\"2.9.10\",\"max_payload\":1048576}\r\n";

    private final RecordingEnv env = new RecordingEnv();
    private final NatsBenchConnection conn = new NatsBenchConnection(env, "c1", 30, System.nanoTime(), false);
    private final EmbeddedChannel ch = Wire.open(conn);

    @AfterEach
    void tearDown() {
        Wire.closeAndAssertReleased(ch);
    }

    private void handshake() {
        feed(ch, INFO);
        written(ch);
        feed(ch, "PONG\r\n");
    }

    @Test
    void shouldWaitForInfoThenConnectSubscribeAndPingAndCountEstablishedOnPong() {
        assertEquals("", written(ch));
        feed(ch, INFO);
        assertEquals("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB bench.c1 1\r\nPING\r\n", written(ch));
        assertEquals(0, env.established());
        feed(ch, "PONG\r\n");
        assertEquals(1, env.established());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldAlsoSubscribeToTheBroadcastSubjectWhenAsked() {
        RecordingEnv env2 = new RecordingEnv();
        EmbeddedChannel ch2 = Wire.open(new NatsBenchConnection(env2, "c1", 30, System.nanoTime(), true));
        try {
            feed(ch2, INFO);
            assertEquals("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB bench.c1 1\r\nSUB bench.all 2\r\n"
                    + "PING\r\n", written(ch2));
            feed(ch2, "PONG\r\n");
            String b = "B" + (BenchConnection.epochMicros() - 4_000);
            feed(ch2, "MSG bench.all 2 " + b.length() + "\r\n" + b + "\r\n");
            assertEquals(1, env2.broadcastLatenciesUs().size());
            assertEquals(List.of(), env2.errors());
        } finally {
            Wire.closeAndAssertReleased(ch2);
        }
    }

    @Test
    void shouldAnswerServerPingWithPong() {
        handshake();
        feed(ch, "PING\r\n");
        assertEquals("PONG\r\n", written(ch));
    }

    @Test
    void shouldPingWhenIdleAndCountPongOnlyOnceAsEstablished() {
        handshake();
        conn.heartbeat(inSeconds(30));
        assertEquals("PING\r\n", written(ch));
        feed(ch, "PONG\r\n");
        assertEquals(1, env.established());
        assertEquals(1, env.pings());
    }

    @Test
    void shouldCountMsgWithAndWithoutReplySubjectAndTimeIt() {
        handshake();
        String timed = Wire.pushPayload(2_000);
        feed(ch, "MSG bench.c1 1 " + timed.length() + "\r\n" + timed + "\r\nMSG bench.c1 1 _INBOX.x 4\r\nab\r\n\r\n");
        assertEquals(2, env.messages());
        assertEquals(1, env.pushLatenciesUs().size());
        assertTrue(env.pushLatenciesUs().get(0) >= 2_000);
    }

    @Test
    void shouldDecodeEverythingSplitAnywhere() {
        feedByteByByte(ch, ascii(INFO + "+OK\r\nPONG\r\nMSG bench.c1 1 5\r\nhello\r\n"));
        assertEquals(1, env.established());
        assertEquals(1, env.messages());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldReportServerErrorOnceEvenWhenServerThenCloses() {
        feed(ch, INFO);
        feed(ch, "-ERR 'Authorization Violation'\r\n");
        ch.close();
        assertEquals(List.of("nats: -ERR 'Authorization Violation'"), env.errors());
    }

    @Test
    void shouldFailOnLineNatsNeverSends() {
        feed(ch, "SSH-2.0-OpenSSH_9.2\r\n");
        assertEquals(List.of("nats: unexpected line"), env.errors());
        assertFalse(ch.isOpen());
    }
}
