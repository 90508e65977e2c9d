package io.switchboard.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Property test on generated input (seeded, so a failure replays): random bytes and random mutations of valid packets
 * never make the decoder throw anything but {@link MqttMalformed}, never make it read a byte past the packet (the
 * buffer ends there, so such a read would throw), always move the reader index to exactly the end of the packet, and
 * whatever decodes is a valid packet: encoded again, it decodes to the same record. A loop would trip the timeout.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MqttDecoderFuzzTest {
    private static final long SEED = 0x3A77_F022L;
    private static final int ITERATIONS = 200_000;
    private static final int[] LEVELS = {0, MqttVersion.V31, MqttVersion.V311, MqttVersion.V5};

    private final Random random = new Random(SEED);
    private final RandomPackets packets = new RandomPackets(random);
    private int decoded;
    private int malformed;

    @Test
    void randomBytes() {
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] p = new byte[1 + random.nextInt(random.nextBoolean() ? 8 : 64)];
            random.nextBytes(p);
            if (random.nextBoolean()) {
                p[0] = (byte) (random.nextInt(16) << 4 | (random.nextInt(4) == 0 ? random.nextInt(16) : 0));
                if (p.length > 1) {
                    p[1] = (byte) (p.length - 2); // a plausible remaining length
                }
            }
            check(p, LEVELS[random.nextInt(LEVELS.length)]);
        }
        assertTrue(malformed > ITERATIONS / 2, "mostly malformed: " + malformed);
        assertTrue(decoded > 100, "random bytes are sometimes a packet (PINGREQ, PUBACK...): " + decoded);
    }

    @Test
    void mutationsOfValidPackets() {
        List<byte[]> real = List.of(MqttDecoderTest.MOSQUITTO_PUB_311, MqttDecoderTest.MOSQUITTO_SUB_5,
                MqttDecoderTest.MOSQUITTO_PUB_5_WILL);
        for (int i = 0; i < ITERATIONS; i++) {
            int version = LEVELS[1 + random.nextInt(3)];
            byte[] p;
            int as;
            if (random.nextInt(10) == 0) {
                p = real.get(random.nextInt(real.size())).clone();
                as = 0;
            } else {
                List<MqttPacket> each = packets.oneOfEach(version);
                MqttPacket packet = each.get(random.nextInt(each.size()));
                p = ClientPackets.encode(packet, version);
                as = packet instanceof Connect ? 0 : version;
            }
            check(mutate(p), random.nextInt(8) == 0 ? LEVELS[random.nextInt(LEVELS.length)] : as);
        }
        assertTrue(malformed > ITERATIONS / 3, "many mutations are malformed: " + malformed);
        assertTrue(decoded > ITERATIONS / 10, "many mutations still decode: " + decoded);
    }

    /** Changes a few bytes, or cuts the packet short, or adds bytes, keeping the remaining length right or not. */
    private byte[] mutate(byte[] p) {
        byte[] m = p.clone();
        switch (random.nextInt(5)) {
            case 0, 1 -> {
                for (int k = 1 + random.nextInt(3); k > 0; k--) {
                    m[random.nextInt(m.length)] = (byte) random.nextInt(256);
                }
            }
            case 2 -> {
                int at = 2 + random.nextInt(Math.max(1, m.length - 2));
                m[at < m.length ? at : m.length - 1] ^= (byte) (1 << random.nextInt(8));
            }
            case 3 -> m = withBody(m[0], body(m, random.nextInt(bodyLength(m) + 1))); // cut short, length fixed
            default -> {
                byte[] extra = new byte[1 + random.nextInt(4)];
                random.nextBytes(extra);
                byte[] b = body(m, bodyLength(m));
                byte[] longer = new byte[b.length + extra.length];
                System.arraycopy(b, 0, longer, 0, b.length);
                System.arraycopy(extra, 0, longer, b.length, extra.length);
                m = withBody(m[0], longer);
            }
        }
        return m;
    }

    private static int headerLength(byte[] p) {
        int i = 1;
        while (i < p.length && i < 5 && (p[i] & 0x80) != 0) {
            i++;
        }
        return Math.min(i + 1, p.length);
    }

    private static int bodyLength(byte[] p) {
        return p.length - headerLength(p);
    }

    private static byte[] body(byte[] p, int length) {
        byte[] b = new byte[length];
        System.arraycopy(p, headerLength(p), b, 0, length);
        return b;
    }

    private static byte[] withBody(byte first, byte[] body) {
        return ClientPackets.packet(first & 0xFF, body);
    }

    /**
     * Decodes {@code p} twice: from a buffer that ends with the packet (and starts a few bytes before it), and from
     * one where the next packet follows it; a complete packet must end the same way in both, and leave the reader
     * index right after it.
     */
    private void check(byte[] p, int version) {
        int offset = random.nextInt(4);
        byte[] framed = new byte[offset + p.length + 2];
        System.arraycopy(p, 0, framed, offset, p.length);
        framed[framed.length - 2] = (byte) 0xC0; // a PINGREQ after it
        ByteBuf exact = Unpooled.wrappedBuffer(framed, 0, offset + p.length).readerIndex(offset);
        ByteBuf followed = Unpooled.wrappedBuffer(framed).readerIndex(offset);
        Object one = decodeOne(exact, version, p);
        Object two = decodeOne(followed, version, p);
        if (one instanceof MqttPacket a) {
            PacketAssert.assertPacketEquals(a, two);
            decoded++;
            int again = a instanceof Connect c ? c.version() : version;
            try {
                PacketAssert.assertPacketEquals(a, PacketAssert.decode(ClientPackets.encode(a, again),
                        a instanceof Connect ? 0 : again));
            } catch (MqttMalformed e) {
                fail("decoded " + a + " from " + hex(p) + ", but not once encoded again: " + e.getMessage());
            }
        } else if (one instanceof MqttMalformed e) {
            assertTrue(two instanceof MqttMalformed f && f.reasonCode() == e.reasonCode(), () -> hex(p));
            malformed++;
        }
        // Incomplete: the buffer that continues may complete it, or make it too long; either is fine.
    }

    /** A packet, an MqttMalformed, or the length -1 when incomplete. */
    private static Object decodeOne(ByteBuf b, int version, byte[] p) {
        int start = b.readerIndex();
        int n;
        try {
            n = MqttDecoder.packetLength(b, 1 << 16);
        } catch (MqttMalformed e) {
            assertEquals(start, b.readerIndex());
            return e;
        } catch (RuntimeException e) {
            throw new AssertionError("packetLength threw on " + hex(p), e);
        }
        assertEquals(start, b.readerIndex(), "packetLength does not move the reader index");
        if (n < 0) {
            return -1;
        }
        try {
            return MqttDecoder.decode(b, n, version);
        } catch (MqttMalformed e) {
            return e;
        } catch (RuntimeException e) {
            throw new AssertionError("decode threw on " + hex(p) + " at level " + version, e);
        } finally {
            assertEquals(start + n, b.readerIndex(), () -> "reader index after " + hex(p));
        }
    }

    private static String hex(byte[] p) {
        return HexFormat.of().formatHex(p);
    }
}
