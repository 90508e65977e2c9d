package io.switchboard.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;

/**
 * Incremental decoder of server-to-client SWB/1 frames: turns {@link ByteBuf}s into {@link Frame}s, whatever
 * way TCP split or merged them. It keeps no cumulation buffer: a partial control line is copied into a small
 * array (at most 1,024 bytes), a payload straight into the {@code byte[]} handed to the application.
 *
 * <p>Input that is not SWB/1 (line longer than 1,024 bytes, unknown verb, bad number, payload over the limit or
 * not followed by LF) fires one {@link Frame.Malformed}, closes the channel and discards everything after;
 * nothing is thrown out of the pipeline. Every inbound buffer is released. Blank lines are ignored.
 *
 * <p>Not sharable: one instance per channel, used only on that channel's event loop.
 */
final class FrameDecoder extends ChannelInboundHandlerAdapter {
    /** A control line is at most this many bytes, LF included (server setting; SWB/1 default). */
    static final int MAX_LINE_BYTES = 1024;

    private static final byte LF = '\n';
    private static final byte CR = '\r';
    private static final int READ_LINE = 0;
    private static final int READ_PAYLOAD = 1;
    private static final int READ_PAYLOAD_LF = 2;
    private static final int DISCARD = 3;
    private static final int MIN_LINE_ARRAY = 64;

    private final int maxPayloadBytes;
    private int state = READ_LINE;
    private byte[] line;
    private int lineLength;
    private long msgSeq;
    private byte[] payload;
    private int payloadFilled;

    FrameDecoder(int maxPayloadBytes) {
        this.maxPayloadBytes = maxPayloadBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            while (state != DISCARD && in.isReadable()) {
                switch (state) {
                    case READ_LINE -> readLine(ctx, in);
                    case READ_PAYLOAD -> readPayload(in);
                    default -> readPayloadLf(ctx, in);
                }
            }
        } catch (RuntimeException e) {
            // A decoder bug must not escape into the pipeline: treat it like bad input.
            malformed(ctx, "decoder failure: " + e);
        } finally {
            in.release();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        line = null;
        payload = null;
    }

    private void readLine(ChannelHandlerContext ctx, ByteBuf in) {
        int start = in.readerIndex();
        int scan = Math.min(in.readableBytes(), MAX_LINE_BYTES - lineLength);
        int lf = in.indexOf(start, start + scan, LF);
        if (lf < 0) {
            if (lineLength + scan >= MAX_LINE_BYTES) {
                malformed(ctx, "control line longer than " + MAX_LINE_BYTES + " bytes");
                return;
            }
            append(in, scan);
            return;
        }
        append(in, lf - start);
        in.skipBytes(1);
        int length = lineLength;
        lineLength = 0;
        if (length > 0 && line[length - 1] == CR) {
            length--;
        }
        if (length > 0) {
            parseLine(ctx, length);
        }
    }

    private void append(ByteBuf in, int n) {
        if (n == 0) {
            return;
        }
        int needed = lineLength + n;
        if (line == null || line.length < needed) {
            int size = Math.max(MIN_LINE_ARRAY, Integer.highestOneBit(needed - 1) << 1);
            byte[] bigger = new byte[Math.min(MAX_LINE_BYTES, size)];
            if (lineLength > 0) {
                System.arraycopy(line, 0, bigger, 0, lineLength);
            }
            line = bigger;
        }
        in.readBytes(line, lineLength, n);
        lineLength = needed;
    }

    private void readPayload(ByteBuf in) {
        int n = Math.min(in.readableBytes(), payload.length - payloadFilled);
        in.readBytes(payload, payloadFilled, n);
        payloadFilled += n;
        if (payloadFilled == payload.length) {
            state = READ_PAYLOAD_LF;
        }
    }

    private void readPayloadLf(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readByte() != LF) {
            malformed(ctx, "MSG " + msgSeq + ": payload not followed by LF");
            return;
        }
        Frame frame = new Frame.Msg(msgSeq, payload);
        payload = null;
        state = READ_LINE;
        ctx.fireChannelRead(frame);
    }

    private void parseLine(ChannelHandlerContext ctx, int length) {
        if (length > 4 && line[0] == 'M' && line[1] == 'S' && line[2] == 'G' && line[3] == ' ') {
            parseMsg(ctx, length);
            return;
        }
        String text = new String(line, 0, length, StandardCharsets.UTF_8);
        int space = text.indexOf(' ');
        String verb = space < 0 ? text : text.substring(0, space);
        String rest = space < 0 ? "" : text.substring(space + 1);
        Frame frame = switch (verb) {
            case "WELCOME" -> parseWelcome(rest);
            case "PING" -> Frame.Signal.PING;
            case "PONG" -> Frame.Signal.PONG;
            case "SENT" -> rest.isEmpty() ? null : new Frame.Sent(firstWord(rest));
            case "NACK" -> parseNack(rest);
            case "OK" -> parseOk(rest);
            case "ERR" -> parseErr(rest);
            case "BYE" -> parseBye(rest);
            default -> null;
        };
        if (frame == null) {
            malformed(ctx, "not an SWB/1 server frame: " + printable(text));
            return;
        }
        ctx.fireChannelRead(frame);
    }

    /** {@code MSG <seq> <n>}, parsed from the bytes: it is the one frame on the hot path. */
    private void parseMsg(ChannelHandlerContext ctx, int length) {
        int space = -1;
        for (int i = 4; i < length; i++) {
            if (line[i] == ' ') {
                space = i;
                break;
            }
        }
        long seq = space < 0 ? -1 : digits(line, 4, space);
        long n = space < 0 ? -1 : digits(line, space + 1, length);
        if (seq < 1 || n < 0) {
            malformed(ctx, "not an SWB/1 server frame: "
                    + printable(new String(line, 0, length, StandardCharsets.UTF_8)));
            return;
        }
        if (n > maxPayloadBytes) {
            malformed(ctx, "MSG " + seq + ": payload of " + n + " bytes exceeds the limit of " + maxPayloadBytes);
            return;
        }
        msgSeq = seq;
        payload = new byte[(int) n];
        payloadFilled = 0;
        state = n == 0 ? READ_PAYLOAD_LF : READ_PAYLOAD;
    }

    private static Frame parseWelcome(String rest) {
        String[] words = rest.split(" ", -1);
        if (words.length < 1 || !Ids.isValidId(words[0])) {
            return null;
        }
        long hb = -1;
        long seq = -1;
        String node = null;
        for (int i = 1; i < words.length; i++) {
            String w = words[i];
            if (w.startsWith("v=")) {
                if (!w.equals("v=1")) {
                    return null;
                }
            } else if (w.startsWith("hb=")) {
                hb = digits(w, 3);
            } else if (w.startsWith("seq=")) {
                seq = digits(w, 4);
            } else if (w.startsWith("node=")) {
                node = w.substring(5);
            } else if (w.indexOf('=') <= 0) {
                return null;
            }
            // Unknown key=value attributes are ignored: later servers may add some.
        }
        if (hb < 0 || hb > Integer.MAX_VALUE || seq < 0) {
            return null;
        }
        return new Frame.WelcomeFrame(new Welcome(words[0], (int) hb, seq, node == null || node.isEmpty() ? null : node));
    }

    private static Frame parseNack(String rest) {
        int s1 = rest.indexOf(' ');
        if (s1 <= 0) {
            return null;
        }
        int s2 = rest.indexOf(' ', s1 + 1);
        int code = code(s2 < 0 ? rest.substring(s1 + 1) : rest.substring(s1 + 1, s2));
        if (code < 0) {
            return null;
        }
        return new Frame.Nack(rest.substring(0, s1), code, s2 < 0 ? "" : rest.substring(s2 + 1));
    }

    private static Frame parseOk(String rest) {
        if (rest.isEmpty()) {
            return null;
        }
        int space = rest.indexOf(' ');
        return space < 0 ? new Frame.Ok(rest, "") : new Frame.Ok(rest.substring(0, space), rest.substring(space + 1));
    }

    private static Frame parseErr(String rest) {
        int space = rest.indexOf(' ');
        int code = code(space < 0 ? rest : rest.substring(0, space));
        return code < 0 ? null : new Frame.Err(code, space < 0 ? "" : rest.substring(space + 1));
    }

    private static Frame parseBye(String rest) {
        if (rest.isEmpty()) {
            return new Frame.Bye(0, "", -1);
        }
        int space = rest.indexOf(' ');
        int code = code(space < 0 ? rest : rest.substring(0, space));
        if (code < 0) {
            return null;
        }
        String text = space < 0 ? "" : rest.substring(space + 1);
        long retryMs = -1;
        int last = text.lastIndexOf(' ');
        String lastWord = text.substring(last + 1);
        if (lastWord.startsWith("retry=")) {
            retryMs = digits(lastWord, 6);
            if (retryMs < 0) {
                return null;
            }
            text = last < 0 ? "" : text.substring(0, last);
        }
        return new Frame.Bye(code, text, retryMs);
    }

    private void malformed(ChannelHandlerContext ctx, String reason) {
        state = DISCARD;
        line = null;
        payload = null;
        ctx.fireChannelRead(new Frame.Malformed(reason));
        ctx.close();
    }

    private static String firstWord(String s) {
        int space = s.indexOf(' ');
        return space < 0 ? s : s.substring(0, space);
    }

    /** A status code: 1–3 decimal digits, else -1. */
    private static int code(String s) {
        return s.length() > 3 ? -1 : (int) digits(s, 0);
    }

    /** Unsigned decimal in {@code s[from..]}, at most 18 digits; -1 if empty or not all digits. */
    private static long digits(String s, int from) {
        int n = s.length() - from;
        if (n < 1 || n > 18) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    /** Unsigned decimal in {@code b[from, to)}, at most 18 digits; -1 if empty or not all digits. */
    private static long digits(byte[] b, int from, int to) {
        int n = to - from;
        if (n < 1 || n > 18) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int c = b[i];
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    /** The start of an offending line, safe to print in a log or exception message. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 80) + 8);
        for (int i = 0; i < s.length() && i < 80; i++) {
            char c = s.charAt(i);
            sb.append(c >= ' ' && c < 0x7f ? c : '?');
        }
        if (s.length() > 80) {
            sb.append("...");
        }
        return '"' + sb.toString() + '"';
    }
}
