package io.switchboard.mqtt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.reflect.RecordComponent;
import java.util.List;

/** Decoding helpers and a deep comparison of packet records (whose {@code byte[]} fields compare by identity). */
final class PacketAssert {
    static final int MAX = 1 << 20;

    private PacketAssert() {
    }

    /**
     * Decodes exactly one packet from {@code bytes}, which must be whole: {@code packetLength} must say so, and
     * {@code decode} must read exactly it, from a buffer that ends where the packet does (reading past it would throw).
     */
    static MqttPacket decode(byte[] bytes, int version) throws MqttMalformed {
        ByteBuf b = Unpooled.wrappedBuffer(bytes);
        int n = MqttDecoder.packetLength(b, MAX);
        assertEquals(bytes.length, n, "packetLength");
        MqttPacket p = MqttDecoder.decode(b, n, version);
        assertFalse(b.isReadable(), "read exactly the packet");
        return p;
    }

    /** The reason of the {@link MqttMalformed} that decoding {@code bytes} throws. */
    static int reason(byte[] bytes, int version) {
        return assertThrows(MqttMalformed.class, () -> decode(bytes, version)).reasonCode();
    }

    /** Records equal component by component, arrays by content. */
    static void assertPacketEquals(Object expected, Object actual) {
        assertPacketEquals(expected, actual, "");
    }

    private static void assertPacketEquals(Object expected, Object actual, String path) {
        if (expected == null || actual == null) {
            assertEquals(expected, actual, path);
        } else if (expected instanceof byte[] e) {
            assertArrayEquals(e, (byte[]) actual, path);
        } else if (expected instanceof List<?> e) {
            List<?> a = (List<?>) actual;
            assertEquals(e.size(), a.size(), path + " size");
            for (int i = 0; i < e.size(); i++) {
                assertPacketEquals(e.get(i), a.get(i), path + "[" + i + "]");
            }
        } else if (expected instanceof Record) {
            assertEquals(expected.getClass(), actual.getClass(), path);
            for (RecordComponent c : expected.getClass().getRecordComponents()) {
                try {
                    assertPacketEquals(c.getAccessor().invoke(expected), c.getAccessor().invoke(actual),
                            path + expected.getClass().getSimpleName() + "." + c.getName());
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
        } else {
            assertEquals(expected, actual, path);
        }
    }
}
