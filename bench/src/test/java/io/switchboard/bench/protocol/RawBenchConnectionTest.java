package io.switchboard.bench.protocol;

import static io.switchboard.bench.protocol.Wire.feed;
import static io.switchboard.bench.protocol.Wire.feedByteByByte;
import static io.switchboard.bench.protocol.Wire.inSeconds;
import static io.switchboard.bench.protocol.Wire.writtenBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RawBenchConnectionTest {
    private final RecordingEnv env = new RecordingEnv();
    private EmbeddedChannel ch;

    @AfterEach
    void tearDown() {
        Wire.closeAndAssertReleased(ch);
    }

    private RawBenchConnection open(boolean echoCheck) {
        RawBenchConnection conn = new RawBenchConnection(env, "c1", 5, System.nanoTime(), echoCheck);
        ch = Wire.open(conn);
        return conn;
    }

    @Test
    void shouldCountEstablishedAtConnectAndSendNothingWithoutEchoCheck() {
        RawBenchConnection conn = open(false);
        assertEquals(1, env.established());
        conn.heartbeat(inSeconds(3600));
        feed(ch, "whatever the server says");
        assertArrayEquals(new byte[0], writtenBytes(ch));
        assertEquals(0, env.messages());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldSendProbeEveryHbAndCountItsEchoAsMessage() {
        RawBenchConnection conn = open(true);
        conn.heartbeat(inSeconds(4));
        assertEquals(0, writtenBytes(ch).length);
        conn.heartbeat(inSeconds(5));
        byte[] probe = writtenBytes(ch);
        assertEquals(RawBenchConnection.PROBE_BYTES, probe.length);
        feed(ch, probe);
        assertEquals(1, env.messages());
        assertEquals(1, env.pings());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldMatchEchoSplitAcrossReads() {
        RawBenchConnection conn = open(true);
        conn.heartbeat(inSeconds(5));
        feedByteByByte(ch, writtenBytes(ch));
        assertEquals(1, env.messages());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldCountChangedEchoAsMismatchAndResynchronise() {
        RawBenchConnection conn = open(true);
        conn.heartbeat(inSeconds(5));
        byte[] probe = writtenBytes(ch);
        probe[3] ^= 1;
        feed(ch, probe);
        assertEquals(List.of("raw: echo mismatch"), env.errors());
        conn.heartbeat(inSeconds(10));
        feed(ch, writtenBytes(ch));
        assertEquals(1, env.messages());
        assertEquals(1, env.errors().size());
    }

    @Test
    void shouldCountAnotherClientsProbeAsMismatch() {
        RawBenchConnection other = new RawBenchConnection(new RecordingEnv(), "c2", 5, System.nanoTime(), true);
        EmbeddedChannel otherCh = Wire.open(other);
        other.heartbeat(inSeconds(5));
        byte[] othersProbe = writtenBytes(otherCh);
        Wire.closeAndAssertReleased(otherCh);
        RawBenchConnection conn = open(true);
        conn.heartbeat(inSeconds(5));
        writtenBytes(ch);
        feed(ch, othersProbe);
        assertEquals(List.of("raw: echo mismatch"), env.errors());
    }

    @Test
    void shouldCountProbeNotBackByTheNextOne() {
        RawBenchConnection conn = open(true);
        conn.heartbeat(inSeconds(5));
        conn.heartbeat(inSeconds(10));
        assertEquals(2 * RawBenchConnection.PROBE_BYTES, writtenBytes(ch).length);
        assertEquals(List.of("raw: echo not back within hb"), env.errors());
        assertTrue(ch.isOpen());
    }
}
