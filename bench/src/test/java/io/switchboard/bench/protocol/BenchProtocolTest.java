package io.switchboard.bench.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BenchProtocolTest {
    private final RecordingEnv env = new RecordingEnv();

    @Test
    void shouldMakeOneHandlerClassPerProtocolName() {
        Map<String, Class<?>> expected = Map.of("swb", SwbBenchConnection.class, "raw", RawBenchConnection.class,
                "mqtt", MqttBenchConnection.class, "redis", RedisBenchConnection.class, "nats",
                NatsBenchConnection.class);
        assertEquals(expected.keySet(), Set.copyOf(tcpProtocols()));
        expected.forEach((name, type) -> assertInstanceOf(type,
                BenchProtocol.parse(name, false, 30).newHandler(env, "c1", 30, System.nanoTime())));
        for (String ws : List.of("ws", "ws-mqtt")) { // framing and connection, added to the channel together
            assertInstanceOf(io.netty.channel.ChannelInitializer.class,
                    BenchProtocol.parse(ws, false, 30).newHandler(env, "c1", 30, System.nanoTime()));
        }
    }

    /** The protocols whose handler is one {@link BenchConnection} (not the WebSocket ones). */
    private static List<String> tcpProtocols() {
        return BenchProtocol.NAMES.stream().filter(n -> !n.startsWith("ws")).toList();
    }

    @Test
    void shouldRefuseUnknownProtocolNamingTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchProtocol.parse("amqp", false, 30));
        assertTrue(e.getMessage().contains("swb, raw, mqtt, redis, nats"), e.getMessage());
    }

    @Test
    void shouldAcceptEchoCheckOnlyForRawWithHeartbeat() {
        assertThrows(IllegalArgumentException.class, () -> BenchProtocol.parse("mqtt", true, 30));
        assertThrows(IllegalArgumentException.class, () -> BenchProtocol.parse("raw", true, 0));
        BenchConnection raw = (BenchConnection) BenchProtocol.parse("raw", true, 5)
                .newHandler(env, "c1", 5, System.nanoTime());
        EmbeddedChannel ch = Wire.open(raw);
        raw.heartbeat(Wire.inSeconds(5));
        assertEquals(RawBenchConnection.PROBE_BYTES, Wire.writtenBytes(ch).length);
        Wire.closeAndAssertReleased(ch);
    }

    @Test
    void shouldReleaseHalfReceivedFrameWhenConnectionCloses() {
        Map<String, String> halfFrames = Map.of("swb", "MSG 1 10\nhalf", "raw", "half a probe",
                "mqtt", "\u0030\u0020half a PUBLISH", "redis", "*3\r\n$7\r\nmess", "nats", "INFO {\"server_id\":");
        assertEquals(Set.copyOf(tcpProtocols()), halfFrames.keySet()); // WebSocket: WebSocketClientFramingTest
        halfFrames.forEach((name, half) -> {
            BenchConnection conn = (BenchConnection) BenchProtocol.parse(name, name.equals("raw"), 5)
                    .newHandler(env, "c1", 5, System.nanoTime());
            EmbeddedChannel ch = Wire.open(conn);
            conn.heartbeat(Wire.inSeconds(5)); // raw: a probe, so that its echo is awaited
            Wire.feed(ch, half);
            assertTrue(ch.isOpen(), name);
            Wire.closeAndAssertReleased(ch);
        });
        assertEquals(List.of(), env.errors().stream().filter(e -> !e.endsWith("closed during handshake")).toList());
    }

    @Test
    void shouldRemoveClosedConnectionFromSweepAndHeartbeatTheRest() {
        EmbeddedChannel[] channels = new EmbeddedChannel[3];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = Wire.open(new RawBenchConnection(env, "c" + i, 5, System.nanoTime(), true));
        }
        assertEquals(3, env.members.size());
        channels[0].close();
        assertEquals(2, env.members.size());
        env.members.heartbeat(Wire.inSeconds(5));
        assertEquals(2, env.pings());
        assertEquals(RawBenchConnection.PROBE_BYTES, Wire.writtenBytes(channels[1]).length);
        assertEquals(RawBenchConnection.PROBE_BYTES, Wire.writtenBytes(channels[2]).length);
        env.members.closeAll();
        for (EmbeddedChannel ch : channels) {
            ch.runPendingTasks();
        }
        assertEquals(0, env.members.size());
        assertEquals(0, env.open());
        for (EmbeddedChannel ch : channels) {
            Wire.closeAndAssertReleased(ch);
        }
    }
}
