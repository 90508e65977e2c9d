package io.switchboard.swb;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/**
 * Encodes SWB/1 frames, both directions, into pooled buffers: server frames first, then client frames. Stateless;
 * callers own the returned buffers.
 */
public final class SwbFrames {
    private static final byte LF = '\n';
    private static final byte SP = ' ';
    private static final byte[] MSG = "MSG ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PONG = "PONG\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PING = "PING\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ACK = "ACK ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SEND = "SEND ".getBytes(StandardCharsets.US_ASCII);

    private SwbFrames() {}

    /** {@code MSG <seq> <n>\n<payload>\n} in one buffer. */
    public static ByteBuf msg(ByteBufAllocator alloc, long seq, byte[] payload) {
        ByteBuf b = alloc.ioBuffer(4 + 20 + 1 + 10 + 1 + payload.length + 1);
        b.writeBytes(MSG);
        writeLong(b, seq);
        b.writeByte(SP);
        writeLong(b, payload.length);
        b.writeByte(LF);
        b.writeBytes(payload);
        b.writeByte(LF);
        return b;
    }

    public static ByteBuf pong(ByteBufAllocator alloc) {
        return alloc.ioBuffer(PONG.length).writeBytes(PONG);
    }

    public static ByteBuf ping(ByteBufAllocator alloc) {
        return alloc.ioBuffer(PING.length).writeBytes(PING);
    }

    /** {@code WELCOME <id> v=1 hb=<s> seq=<n> [node=<name>]}. */
    public static ByteBuf welcome(ByteBufAllocator alloc, String clientId, int hbSec, long seq, String node) {
        StringBuilder sb = new StringBuilder(64).append("WELCOME ").append(clientId).append(" v=1 hb=").append(hbSec)
                .append(" seq=").append(seq);
        if (node != null) {
            sb.append(" node=").append(node);
        }
        return line(alloc, sb);
    }

    /** {@code BYE <code> <text> [retry=<ms>]}; {@code retryMs <= 0} omits the retry hint. */
    public static ByteBuf bye(ByteBufAllocator alloc, int code, String text, long retryMs) {
        StringBuilder sb = new StringBuilder(48).append("BYE ").append(code).append(' ').append(text);
        if (retryMs > 0) {
            sb.append(" retry=").append(retryMs);
        }
        return line(alloc, sb);
    }

    /** Any control line; a trailing LF is added. Text must be ASCII without LF. */
    public static ByteBuf line(ByteBufAllocator alloc, CharSequence text) {
        ByteBuf b = alloc.ioBuffer(text.length() + 1);
        ByteBufUtil.writeAscii(b, text);
        b.writeByte(LF);
        return b;
    }

    // ---- client to server

    /**
     * The {@code HELLO} line without its LF; {@code resumeSeq < 0} and {@code hbSec < 0} leave those attributes
     * out, {@code token == null} leaves the token out.
     */
    public static String helloLine(String clientId, String token, long resumeSeq, int hbSec) {
        StringBuilder sb = new StringBuilder(64).append("HELLO ").append(clientId).append(" v=1");
        if (token != null) {
            sb.append(" token=").append(token);
        }
        if (resumeSeq >= 0) {
            sb.append(" resume=").append(resumeSeq);
        }
        if (hbSec >= 0) {
            sb.append(" hb=").append(hbSec);
        }
        return sb.toString();
    }

    /** {@code <verb> <word>\n}, e.g. {@code SUB news}. ASCII only. */
    public static ByteBuf line(ByteBufAllocator alloc, String verb, String word) {
        ByteBuf b = alloc.ioBuffer(verb.length() + word.length() + 2);
        ByteBufUtil.writeAscii(b, verb);
        b.writeByte(SP);
        ByteBufUtil.writeAscii(b, word);
        return b.writeByte(LF);
    }

    /** {@code ACK <seq>\n}. */
    public static ByteBuf ack(ByteBufAllocator alloc, long seq) {
        ByteBuf b = alloc.ioBuffer(ACK.length + 20 + 1);
        b.writeBytes(ACK);
        writeLong(b, seq);
        return b.writeByte(LF);
    }

    /** {@code SEND <id> <n>\n<payload>\n} in one buffer. */
    public static ByteBuf send(ByteBufAllocator alloc, String id, byte[] payload) {
        ByteBuf b = alloc.ioBuffer(SEND.length + id.length() + 1 + 10 + 1 + payload.length + 1);
        b.writeBytes(SEND);
        ByteBufUtil.writeAscii(b, id);
        b.writeByte(SP);
        writeLong(b, payload.length);
        b.writeByte(LF);
        b.writeBytes(payload);
        return b.writeByte(LF);
    }

    /** Writes {@code v} in decimal: its digits counted first, then set from the last one back. */
    static void writeLong(ByteBuf b, long v) {
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                ByteBufUtil.writeAscii(b, Long.toString(v));
                return;
            }
            b.writeByte('-');
            v = -v;
        }
        int digits = 1;
        for (long rest = v / 10; rest != 0; rest /= 10) {
            digits++;
        }
        int end = b.writerIndex() + digits;
        b.ensureWritable(digits);
        for (int at = end - 1; at >= end - digits; at--) {
            b.setByte(at, (int) ('0' + v % 10));
            v /= 10;
        }
        b.writerIndex(end);
    }
}
