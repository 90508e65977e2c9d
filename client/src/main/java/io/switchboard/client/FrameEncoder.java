package io.switchboard.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

/** Builds client-to-server SWB/1 frames as ready-to-write buffers. Stateless; callers own the returned buffers. */
final class FrameEncoder {
    private static final byte LF = '\n';

    private FrameEncoder() {
    }

    /**
     * The {@code HELLO} line without its LF; {@code resumeSeq < 0} and {@code heartbeatSeconds < 0} leave those
     * attributes out, {@code token == null} leaves the token out.
     */
    static String helloLine(String clientId, String token, long resumeSeq, int heartbeatSeconds) {
        StringBuilder sb = new StringBuilder(64).append("HELLO ").append(clientId).append(" v=1");
        if (token != null) {
            sb.append(" token=").append(token);
        }
        if (resumeSeq >= 0) {
            sb.append(" resume=").append(resumeSeq);
        }
        if (heartbeatSeconds >= 0) {
            sb.append(" hb=").append(heartbeatSeconds);
        }
        return sb.toString();
    }

    /** One control line (ASCII words, no LF) followed by LF. */
    static ByteBuf line(ByteBufAllocator alloc, String line) {
        ByteBuf buf = alloc.ioBuffer(line.length() + 1);
        ByteBufUtil.writeAscii(buf, line);
        return buf.writeByte(LF);
    }

    /** {@code <verb> <word>\n}, e.g. {@code SUB news}, {@code ACK 42}. */
    static ByteBuf line(ByteBufAllocator alloc, String verb, String word) {
        ByteBuf buf = alloc.ioBuffer(verb.length() + word.length() + 2);
        ByteBufUtil.writeAscii(buf, verb);
        buf.writeByte(' ');
        ByteBufUtil.writeAscii(buf, word);
        return buf.writeByte(LF);
    }

    static ByteBuf ack(ByteBufAllocator alloc, long seq) {
        return line(alloc, "ACK", Long.toString(seq));
    }

    /** {@code SEND <id> <n>\n<payload>\n} in one buffer. */
    static ByteBuf send(ByteBufAllocator alloc, String id, byte[] payload) {
        String n = Integer.toString(payload.length);
        ByteBuf buf = alloc.ioBuffer(5 + id.length() + 1 + n.length() + 1 + payload.length + 1);
        ByteBufUtil.writeAscii(buf, "SEND ");
        ByteBufUtil.writeAscii(buf, id);
        buf.writeByte(' ');
        ByteBufUtil.writeAscii(buf, n);
        buf.writeByte(LF);
        buf.writeBytes(payload);
        return buf.writeByte(LF);
    }
}
