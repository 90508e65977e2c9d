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

class RedisBenchConnectionTest {
    private static final String SUBSCRIBED = "*3\r\n$9\r\nsubscribe\r\n$8\r\nbench:c1\r\n:1\r\n";

    private final RecordingEnv env = new RecordingEnv();
    private final RedisBenchConnection conn = new RedisBenchConnection(env, "c1", 30, System.nanoTime(), false);
    private final EmbeddedChannel ch = Wire.open(conn);

    @AfterEach
    void tearDown() {
        Wire.closeAndAssertReleased(ch);
    }

    private static String message(String payload) {
        return "*3\r\n$7\r\nmessage\r\n$8\r\nbench:c1\r\n$" + payload.length() + "\r\n" + payload + "\r\n";
    }

    @Test
    void shouldSubscribeAndCountEstablishedOnConfirmation() {
        assertEquals("*2\r\n$9\r\nSUBSCRIBE\r\n$8\r\nbench:c1\r\n", written(ch));
        assertEquals(0, env.established());
        feed(ch, SUBSCRIBED);
        assertEquals(1, env.established());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldAlsoSubscribeToTheBroadcastChannelWhenAskedAndTimeBroadcasts() {
        RecordingEnv env2 = new RecordingEnv();
        EmbeddedChannel ch2 = Wire.open(new RedisBenchConnection(env2, "c1", 30, System.nanoTime(), true));
        try {
            assertEquals("*3\r\n$9\r\nSUBSCRIBE\r\n$8\r\nbench:c1\r\n$9\r\nbench:all\r\n", written(ch2));
            feed(ch2, SUBSCRIBED + "*3\r\n$9\r\nsubscribe\r\n$9\r\nbench:all\r\n:2\r\n");
            assertEquals(1, env2.established());
            String b = "B" + (BenchConnection.epochMicros() - 4_000);
            feed(ch2, "*3\r\n$7\r\nmessage\r\n$9\r\nbench:all\r\n$" + b.length() + "\r\n" + b + "\r\n");
            assertEquals(1, env2.broadcastLatenciesUs().size());
            assertTrue(env2.broadcastLatenciesUs().get(0) >= 4_000);
            assertEquals(List.of(), env2.errors());
        } finally {
            Wire.closeAndAssertReleased(ch2);
        }
    }

    @Test
    void shouldCountMessagesAndTimeTheirPayload() {
        feed(ch, SUBSCRIBED + message(Wire.pushPayload(3_000)) + message("plain"));
        assertEquals(2, env.messages());
        assertEquals(1, env.pushLatenciesUs().size());
        assertTrue(env.pushLatenciesUs().get(0) >= 3_000);
    }

    @Test
    void shouldDecodeRepliesSplitAnywhereWithBinaryPayloads() {
        feedByteByByte(ch, ascii(SUBSCRIBED + message("a\r\n*1\r\nb")));
        assertEquals(1, env.established());
        assertEquals(1, env.messages());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldPingWhenIdleAndTakePongAsNoMessage() {
        written(ch);
        feed(ch, SUBSCRIBED);
        conn.heartbeat(inSeconds(30));
        assertEquals("*1\r\n$4\r\nPING\r\n", written(ch));
        feed(ch, "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assertEquals(0, env.messages());
        assertEquals(1, env.pings());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldReportErrorReplyAndClose() {
        feed(ch, "-ERR max number of clients reached\r\n");
        assertEquals(List.of("redis: ERR max number of clients reached"), env.errors());
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldFailOnBytesThatAreNotResp() {
        feed(ch, "HTTP/1.1 400 Bad Request\r\n");
        assertEquals(List.of("redis: unexpected reply type"), env.errors());
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldFailOnNegativeBulkLength() {
        feed(ch, "*3\r\n$7\r\nmessage\r\n$-5\r\n");
        assertEquals(List.of("redis: malformed bulk length"), env.errors());
    }
}
