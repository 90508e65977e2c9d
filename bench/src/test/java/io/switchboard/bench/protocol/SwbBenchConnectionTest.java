package io.switchboard.bench.protocol;

import static io.switchboard.bench.protocol.Wire.feed;
import static io.switchboard.bench.protocol.Wire.feedByteByByte;
import static io.switchboard.bench.protocol.Wire.inSeconds;
import static io.switchboard.bench.protocol.Wire.written;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SwbBenchConnectionTest {
    private final RecordingEnv env = new RecordingEnv();
    private final SwbBenchConnection conn = new SwbBenchConnection(env, "c1", 30, System.nanoTime(), 1, 0);
    private final EmbeddedChannel ch = Wire.open(conn);

    @AfterEach
    void tearDown() {
        Wire.closeAndAssertReleased(ch);
    }

    private void welcome() {
        assertEquals("HELLO c1 v=1 hb=30\n", written(ch));
        feed(ch, "WELCOME c1 v=1 hb=30 seq=5\n");
    }

    @Test
    void shouldSayHelloAndCountEstablishedOnWelcome() {
        assertEquals(1, env.open());
        assertEquals("HELLO c1 v=1 hb=30\n", written(ch));
        assertEquals(0, env.established());
        feed(ch, "WELCOME c1 v=1 hb=30 seq=5\r\n");
        assertEquals(1, env.established());
        assertEquals(1, env.handshakesNs().size());
        assertTrue(env.handshakesNs().get(0) >= 0);
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldAckHighestSeqOncePerReadBatchAndTimePushes() {
        welcome();
        String payload = Wire.pushPayload(5_000);
        feed(ch, "MSG 6 3\nabc\nMSG 7 " + payload.length() + "\n" + payload + "\n");
        assertEquals("ACK 7\n", written(ch));
        assertEquals(2, env.messages());
        assertEquals(1, env.pushLatenciesUs().size());
        assertTrue(env.pushLatenciesUs().get(0) >= 5_000, env.pushLatenciesUs().toString());
    }

    @Test
    void shouldAckAsTheClientLibraryDoesOnceEnoughWaitOrTheOldestHasWaitedTheDelay() {
        RecordingEnv env2 = new RecordingEnv();
        EmbeddedChannel lazy = Wire.open(new SwbBenchConnection(env2, "c2", 30, System.nanoTime(), 3, 1000));
        // The channel's clock moves only when told: real time passing between the steps (a slow CI machine) must not
        // carry the oldest message past its delay before the test says so.
        lazy.freezeTime();
        try {
            written(lazy);
            feed(lazy, "WELCOME c2 v=1 hb=30 seq=5\n");
            feed(lazy, "MSG 6 1\na\n");
            feed(lazy, "MSG 7 1\nb\n");
            assertEquals("", written(lazy), "two of three: not yet");
            lazy.advanceTimeBy(999, java.util.concurrent.TimeUnit.MILLISECONDS);
            lazy.runScheduledPendingTasks();
            assertEquals("", written(lazy));
            lazy.advanceTimeBy(1, java.util.concurrent.TimeUnit.MILLISECONDS);
            lazy.runScheduledPendingTasks();
            assertEquals("ACK 7\n", written(lazy), "one second after the oldest");
            feed(lazy, "MSG 8 1\nc\nMSG 9 1\nd\nMSG 10 1\ne\n");
            assertEquals("ACK 10\n", written(lazy), "three waiting: at once");
            lazy.advanceTimeBy(2, java.util.concurrent.TimeUnit.SECONDS);
            lazy.runScheduledPendingTasks();
            assertEquals("", written(lazy), "nothing left to acknowledge");
            assertEquals(5, env2.messages());
        } finally {
            Wire.closeAndAssertReleased(lazy);
        }
    }

    @Test
    void shouldDecodeMessageSplitAnywhere() {
        welcome();
        feedByteByByte(ch, "MSG 9 5\nhe\nlo\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(1, env.messages());
        assertEquals("ACK 9\n", written(ch));
    }

    @Test
    void shouldPingOnlyAfterWelcomeAndWhenIdleForHeartbeat() {
        assertEquals("HELLO c1 v=1 hb=30\n", written(ch));
        conn.heartbeat(inSeconds(31));
        assertEquals("", written(ch));
        feed(ch, "WELCOME c1 v=1 hb=30 seq=5\n");
        conn.heartbeat(inSeconds(29));
        assertEquals("", written(ch));
        conn.heartbeat(inSeconds(30));
        assertEquals("PING\n", written(ch));
        assertEquals(1, env.pings());
    }

    @Test
    void shouldAnswerServerPingWithPong() {
        welcome();
        feed(ch, "PING\n");
        assertEquals("PONG\n", written(ch));
    }

    @Test
    void shouldCountByeAsOneErrorWithoutItsRetryHint() {
        written(ch);
        feed(ch, "BYE 401 token expired retry=1500\n");
        ch.close();
        assertEquals(List.of("BYE 401 token expired"), env.errors());
        assertEquals(0, env.open());
    }

    @Test
    void shouldCountCloseBeforeWelcomeAsHandshakeError() {
        ch.close();
        assertEquals(List.of("swb: closed during handshake"), env.errors());
    }

    @Test
    void shouldFailOnLineLongerThanAnyServerSends() {
        welcome();
        feed(ch, "x".repeat(BenchConnection.MAX_LINE + 1));
        assertEquals(List.of("swb: line too long"), env.errors());
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldFailOnMalformedMsgLine() {
        welcome();
        feed(ch, "MSG seven 3\nabc\n");
        assertEquals(List.of("swb: malformed MSG line"), env.errors());
        assertFalse(ch.isOpen());
    }
}
