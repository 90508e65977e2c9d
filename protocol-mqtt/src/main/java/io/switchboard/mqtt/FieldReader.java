package io.switchboard.mqtt;

import static io.switchboard.mqtt.MqttReasonCodes.MALFORMED_PACKET;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Reads MQTT's field types from one packet's bytes, never past its end. For one packet, one thread. */
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

    /** A variable byte integer (1 to 4 bytes). */
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

    byte[] binary(String what) throws MqttMalformed {
        int n = u16(what);
        return bytes(n, what);
    }

    byte[] bytes(int n, String what) throws MqttMalformed {
        need(n, what);
        byte[] b = new byte[n];
        buf.readBytes(b);
        return b;
    }

    byte[] rest() {
        byte[] b = new byte[remaining()];
        buf.readBytes(b);
        return b;
    }

    /** A UTF-8 string: well formed, without U+0000 (MQTT's rules). */
    String utf8(String what) throws MqttMalformed {
        int n = u16(what);
        need(n, what);
        int at = buf.readerIndex();
        for (int i = 0; i < n; i++) {
            if (buf.getByte(at + i) == 0) {
                throw new MqttMalformed(MALFORMED_PACKET, what + " contains U+0000");
            }
        }
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(n == 0 ? ByteBuffer.allocate(0) : buf.nioBuffer(at, n)).toString();
        } catch (CharacterCodingException e) {
            throw new MqttMalformed(MALFORMED_PACKET, what + " is not well-formed UTF-8");
        }
        buf.skipBytes(n);
        return s;
    }
}
