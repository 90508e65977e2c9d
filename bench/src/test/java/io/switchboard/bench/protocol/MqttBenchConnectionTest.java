package io.switchboard.bench.protocol;

import static io.switchboard.bench.protocol.Wire.ascii;
import static io.switchboard.bench.protocol.Wire.bytes;
import static io.switchboard.bench.protocol.Wire.concat;
import static io.switchboard.bench.protocol.Wire.feed;
import static io.switchboard.bench.protocol.Wire.feedByteByByte;
import static io.switchboard.bench.protocol.Wire.inSeconds;
import static io.switchboard.bench.protocol.Wire.writtenBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MqttBenchConnectionTest {
    // MQTT 3.1.1: CONNECT, remaining length 14, "MQTT", level 4, clean session, keep-alive 30, client id "c1".
    private static final byte[] CONNECT = concat(bytes(0x10, 14, 0, 4), ascii("MQTT"),
            bytes(4, 0x02, 0, 30, 0, 2), ascii("c1"));
    // SUBSCRIBE (flags 0010), remaining length 13, packet id 1, topic "bench/c1", requested QoS 0.
    private static final byte[] SUBSCRIBE = concat(bytes(0x82, 13, 0, 1, 0, 8), ascii("bench/c1"), bytes(0));
    private static final byte[] CONNACK_ACCEPTED = bytes(0x20, 2, 0, 0);
    private static final byte[] SUBACK_QOS0 = bytes(0x90, 3, 0, 1, 0);

    private final RecordingEnv env = new RecordingEnv();
    private final MqttBenchConnection conn = new MqttBenchConnection(env, "c1", 30, System.nanoTime(), false);
    private final EmbeddedChannel ch = Wire.open(conn);

    @AfterEach
    void tearDown() {
        Wire.closeAndAssertReleased(ch);
    }

    private void handshake() {
        assertArrayEquals(CONNECT, writtenBytes(ch));
        feed(ch, CONNACK_ACCEPTED);
        assertArrayEquals(SUBSCRIBE, writtenBytes(ch));
        feed(ch, SUBACK_QOS0);
    }

    private static byte[] publish(int flags, String topic, byte[] packetId, String payload) {
        byte[] body = concat(bytes(0, topic.length()), ascii(topic), packetId, ascii(payload));
        ByteBuf header = Unpooled.buffer();
        header.writeByte(0x30 | flags);
        try {
            MqttBenchConnection.writeRemainingLength(header, body.length);
            return concat(ByteBufUtil.getBytes(header), body);
        } finally {
            header.release();
        }
    }

    @Test
    void shouldConnectThenSubscribeOnConnackAndCountEstablishedOnSuback() {
        assertArrayEquals(CONNECT, writtenBytes(ch));
        feed(ch, CONNACK_ACCEPTED);
        assertEquals(0, env.established());
        assertArrayEquals(SUBSCRIBE, writtenBytes(ch));
        feed(ch, SUBACK_QOS0);
        assertEquals(1, env.established());
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldAlsoSubscribeToTheBroadcastTopicWhenAskedAndFailWhenEitherIsRefused() {
        RecordingEnv env2 = new RecordingEnv();
        EmbeddedChannel ch2 = Wire.open(new MqttBenchConnection(env2, "c1", 30, System.nanoTime(), true));
        try {
            writtenBytes(ch2);
            feed(ch2, CONNACK_ACCEPTED);
            // Remaining length 25: packet id, "bench/c1" at QoS 0, "bench/all" at QoS 0.
            assertArrayEquals(concat(bytes(0x82, 25, 0, 1, 0, 8), ascii("bench/c1"), bytes(0, 0, 9), ascii("bench/all"),
                    bytes(0)), writtenBytes(ch2));
            feed(ch2, bytes(0x90, 4, 0, 1, 0, 0x80));
            assertEquals(0, env2.established());
            assertEquals(List.of("mqtt: SUBSCRIBE refused"), env2.errors());
        } finally {
            Wire.closeAndAssertReleased(ch2);
        }
    }

    @Test
    void shouldDecodeHandshakeRepliesSplitAnywhere() {
        writtenBytes(ch);
        feedByteByByte(ch, CONNACK_ACCEPTED);
        assertArrayEquals(SUBSCRIBE, writtenBytes(ch));
        feedByteByByte(ch, SUBACK_QOS0);
        assertEquals(1, env.established());
    }

    @Test
    void shouldFailWhenBrokerRefusesConnection() {
        writtenBytes(ch);
        feed(ch, bytes(0x20, 2, 0, 5));
        ch.close();
        assertEquals(List.of("mqtt: CONNACK return code 5"), env.errors());
        assertEquals(0, env.established());
    }

    @Test
    void shouldFailWhenBrokerRefusesSubscription() {
        writtenBytes(ch);
        feed(ch, CONNACK_ACCEPTED);
        feed(ch, bytes(0x90, 3, 0, 1, 0x80));
        assertEquals(List.of("mqtt: SUBSCRIBE refused"), env.errors());
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldCountPublishAndTimeItsPayload() {
        handshake();
        feed(ch, publish(0, "bench/c1", new byte[0], Wire.pushPayload(7_000)));
        assertEquals(1, env.messages());
        assertTrue(env.pushLatenciesUs().get(0) >= 7_000, env.pushLatenciesUs().toString());
    }

    @Test
    void shouldDecodeLongPublishSplitAnywhere() {
        handshake();
        // 200 bytes of payload: a two-byte remaining length.
        String payload = Wire.pushPayload(1_000);
        feedByteByByte(ch, publish(0, "bench/c1", new byte[0], payload + " ".repeat(200 - payload.length())));
        assertEquals(1, env.messages());
        assertEquals(1, env.pushLatenciesUs().size());
    }

    @Test
    void shouldAcknowledgeQos1PublishItDidNotAskFor() {
        handshake();
        writtenBytes(ch);
        feed(ch, publish(0x02, "bench/c1", bytes(0x12, 0x34), "hi"));
        assertEquals(1, env.messages());
        assertArrayEquals(bytes(0x40, 2, 0x12, 0x34), writtenBytes(ch));
    }

    @Test
    void shouldSendPingreqWhenIdleAndIgnorePingresp() {
        handshake();
        conn.heartbeat(inSeconds(29));
        assertArrayEquals(new byte[0], writtenBytes(ch));
        conn.heartbeat(inSeconds(30));
        assertArrayEquals(bytes(0xC0, 0), writtenBytes(ch));
        feed(ch, bytes(0xD0, 0));
        assertEquals(1, env.pings());
        assertEquals(List.of(), env.errors());
        assertTrue(ch.isOpen());
    }

    @Test
    void shouldFailOnPacketABrokerNeverSendsToThisClient() {
        handshake();
        feed(ch, bytes(0x10, 0));
        assertEquals(List.of("mqtt: unexpected packet type 1"), env.errors());
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldEncodeRemainingLengthAsInTheSpecification() {
        HexFormat hex = HexFormat.of();
        for (var c : List.of(List.of(0, "00"), List.of(127, "7f"), List.of(128, "8001"), List.of(321, "c102"),
                List.of(16_383, "ff7f"), List.of(16_384, "808001"), List.of(268_435_455, "ffffff7f"))) {
            ByteBuf b = Unpooled.buffer();
            try {
                MqttBenchConnection.writeRemainingLength(b, (Integer) c.get(0));
                assertEquals(c.get(1), hex.formatHex(ByteBufUtil.getBytes(b)), "length " + c.get(0));
            } finally {
                b.release();
            }
        }
    }
}
