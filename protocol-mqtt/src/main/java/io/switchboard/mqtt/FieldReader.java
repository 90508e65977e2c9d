package io.switchboard.mqtt;

import static io.switchboard.mqtt.MqttReasonCodes.MALFORMED_PACKET;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Reads MQTT's data types from one packet's bytes, never past its end: every read is checked against the end first,
 * so a field that runs past it is an {@link MqttMalformed}, never a read of the next packet. For one packet, one
 * thread.
 */
final class FieldReader {
    private final ByteBuf buf;
    private final int end;

    FieldReader(ByteBuf buf, int end) {
        this.buf = buf;
        this.end = end;
    }

    int remaining() {
        return end - buf.readerIndex();
    }

    private void need(int n, String what) throws MqttMalformed {
        if (remaining() < n) {
            throw new MqttMalformed(MALFORMED_PACKET, what + " runs past the end of the packet");
        }
    }

    int u8(String what) throws MqttMalformed {
        need(1, what);
        return buf.readUnsignedByte();
    }

    int u16(String what) throws MqttMalformed {
        need(2, what);
        return buf.readUnsignedShort();
    }

    long u32(String what) throws MqttMalformed {
        need(4, what);
        return buf.readUnsignedInt();
    }

    /** A variable byte integer: 1 to 4 bytes, 0 to 268,435,455. */
    int varint(String what) throws MqttMalformed {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = u8(what);
            value |= (digit & 0x7F) << (7 * i);
            if ((digit & 0x80) == 0) {
                return value;
            }
        }
        throw new MqttMalformed(MALFORMED_PACKET, what + " is a variable byte integer longer than 4 bytes");
    }

    /** Binary data: a two-byte length, then as many bytes. */
    byte[] binary(String what) throws MqttMalformed {
        int n = u16(what);
        need(n, what);
        byte[] b = new byte[n];
        buf.readBytes(b);
        return b;
    }

    /** The rest of the packet (a PUBLISH payload). */
    byte[] rest() {
        byte[] b = new byte[remaining()];
        buf.readBytes(b);
        return b;
    }

    /** A UTF-8 encoded string: a two-byte length, then well-formed UTF-8 without U+0000 (MQTT's rules). */
    String utf8(String what) throws MqttMalformed {
        int n = u16(what);
        need(n, what);
        int at = buf.readerIndex();
        String problem = Utf8.check(buf, at, at + n);
        if (problem != null) {
            throw new MqttMalformed(MALFORMED_PACKET, what + " " + problem);
        }
        buf.skipBytes(n);
        return n == 0 ? "" : buf.toString(at, n, StandardCharsets.UTF_8);
    }
}
