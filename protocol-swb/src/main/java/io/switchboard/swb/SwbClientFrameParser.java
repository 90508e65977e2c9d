package io.switchboard.swb;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Parses the frames an SWB/1 client sends (what a server reads): {@code HELLO}, {@code ACK}, {@code PING},
 * {@code PONG}, {@code SEND} with its payload, {@code SUB}, {@code UNSUB}, {@code AUTH}, {@code BYE}. Arguments are
 * separated by one or more spaces; words after the ones a verb takes are ignored, as are blank lines.
 *
 * <p>What is wrong with a frame is reported with the status code and text a server answers: {@link
 * Handler#onError} for a refused command the connection survives ({@code ERR}: unknown verb, bad topic),
 * {@link Handler#onMalformed} for input after which the stream cannot be trusted ({@code BYE}: 400 malformed,
 * 413 too large). Rules that depend on the connection's state (HELLO first, HELLO once) are the handler's, through
 * {@link Handler#accept}.
 *
 * <p>Pausing: {@link Handler#paused()} is asked before each frame; while it is true the parser returns, leaving
 * the rest unread, and a later {@link #parse} or {@link #feed} on the same bytes goes on from there (a server
 * pauses while a HELLO waits for its session). See {@link SwbParser} for buffers and threading.
 */
public final class SwbClientFrameParser extends SwbParser<SwbClientFrameParser.Handler> {
    private static final byte[] HELLO = ascii("HELLO");
    private static final byte[] ACK = ascii("ACK");
    private static final byte[] PING = ascii("PING");
    private static final byte[] PONG = ascii("PONG");
    private static final byte[] SEND = ascii("SEND");
    private static final byte[] SUB = ascii("SUB");
    private static final byte[] UNSUB = ascii("UNSUB");
    private static final byte[] BYE = ascii("BYE");
    private static final byte[] AUTH = ascii("AUTH");
    private static final byte[] VERSION = ascii("v");
    private static final byte[] TOKEN = ascii("token");
    private static final byte[] RESUME = ascii("resume");
    private static final byte[] HB = ascii("hb");
    private static final int MAX_VERB_ECHO = 32;
    static final String ID_RULE = "1-128 characters of [A-Za-z0-9._:@-]";

    /**
     * Receives the frames of one connection, on the thread that parses its input. Strings and arrays passed are
     * the handler's to keep.
     */
    public interface Handler {
        /** Asked before each frame: true stops parsing, leaving the rest unread (a pause, or the connection closes). */
        default boolean paused() {
            return false;
        }

        /**
         * A whole control line with this verb arrived (its arguments not checked yet). Return false to refuse it:
         * the line is then skipped, so the handler has answered it, and one that refuses a {@code SEND} must also
         * pause (its payload is not skipped). Asked again each time more of a {@code SEND} whose payload is still
         * incomplete arrives, so it must not change state when it returns true.
         */
        default boolean accept(SwbVerb verb) {
            return true;
        }

        /**
         * {@code HELLO <client-id> [v=1] [token=<t>] [resume=<seq>] [hb=<seconds>]}, the id valid; {@code token} is
         * null when absent, {@code resumeSeq} -1 when absent, {@code hbSec} -1 when absent. Unknown options are
         * ignored.
         */
        void onHello(String clientId, String token, long resumeSeq, int hbSec);

        /** {@code ACK <seq>}. */
        void onAck(long seq);

        void onPing();

        void onPong();

        /** {@code SEND <id> <n>}, the id valid, and its payload of {@code n} bytes, whole. */
        void onSend(String id, byte[] payload);

        /** {@code SUB <topic>}, the topic a valid identifier. */
        void onSub(String topic);

        /** {@code UNSUB <topic>}, the topic a valid identifier. */
        void onUnsub(String topic);

        /** {@code BYE}: the client leaves. */
        void onBye();

        /** {@code AUTH <token>}: a fresh token for the session, before the one it has expires. */
        void onAuth(String token);

        /** Answer {@code ERR <code> <text>}: the command was refused; the connection stays open. */
        void onError(int code, String text);

        /**
         * Answer {@code BYE <code> <text>} and close: the input is malformed (400) or too large (413). The parser
         * has consumed the buffer and stopped; the caller discards all further input.
         */
        void onMalformed(int code, String text);
    }

    /** @param maxLineBytes the longest control line, LF included; @param maxPayloadBytes the largest SEND payload */
    public SwbClientFrameParser(int maxLineBytes, int maxPayloadBytes) {
        super(maxLineBytes, maxPayloadBytes);
    }

    @Override
    public void parse(ByteBuf in, Handler h) {
        while (in.isReadable() && !h.paused() && frame(in, h)) {
            // one frame per turn
        }
    }

    /** The frame at the reader index: true when it was consumed, false when incomplete or malformed. */
    private boolean frame(ByteBuf in, Handler h) {
        int start = in.readerIndex();
        int lf = lineEnd(in);
        if (lf < 0) {
            return lf == TOO_LONG && malformed(in, h, 413, lineTooLong());
        }
        int end = textEnd(in, start, lf);
        if (end == start) {
            in.readerIndex(lf + 1); // an empty line (an extra Enter in telnet or nc) is harmless: ignore it
            return true;
        }
        int verbEnd = tokenEnd(in, start, end);
        if (verbEnd == start) {
            return malformed(in, h, 400, "line starts with a space");
        }
        SwbVerb verb = verb(in, start, verbEnd);
        if (!h.accept(verb)) {
            in.readerIndex(lf + 1);
            return true;
        }
        int arg = skipSpaces(in, verbEnd, end);
        if (verb == SwbVerb.SEND) {
            return send(in, h, arg, end, lf);
        }
        // Consumed before the handler runs: it may parse what follows itself (a HELLO completed at once).
        in.readerIndex(lf + 1);
        switch (verb) {
            case HELLO -> {
                return hello(in, h, arg, end);
            }
            case ACK -> {
                long seq = digits(in, arg, tokenEnd(in, arg, end));
                if (seq < 0) {
                    return malformed(in, h, 400, "ACK needs a sequence number");
                }
                h.onAck(seq);
            }
            case PING -> h.onPing();
            case PONG -> h.onPong();
            case SUB, UNSUB -> topic(in, h, verb, arg, tokenEnd(in, arg, end));
            case BYE -> h.onBye();
            case AUTH -> {
                int tokenEnd = tokenEnd(in, arg, end);
                if (tokenEnd == arg) {
                    h.onError(400, "AUTH needs a token");
                } else {
                    h.onAuth(ascii(in, arg, tokenEnd));
                }
            }
            default -> h.onError(400,
                    "unknown command " + printable(in, start, Math.min(verbEnd, start + MAX_VERB_ECHO)));
        }
        return true;
    }

    private boolean hello(ByteBuf in, Handler h, int from, int end) {
        int idEnd = tokenEnd(in, from, end);
        if (!SwbIds.isValid(in, from, idEnd)) {
            return malformed(in, h, 400, "client id must be " + ID_RULE);
        }
        String clientId = ascii(in, from, idEnd);
        String token = null;
        long resume = -1;
        int hb = -1;
        int i = skipSpaces(in, idEnd, end);
        while (i < end) {
            int tEnd = tokenEnd(in, i, end);
            int eq = in.indexOf(i, tEnd, (byte) '=');
            if (eq < 0) {
                return malformed(in, h, 400, "HELLO options are key=value");
            }
            if (matches(in, i, eq, VERSION)) {
                if (digits(in, eq + 1, tEnd) != 1) {
                    return malformed(in, h, 400, "unsupported protocol version (this server speaks v=1)");
                }
            } else if (matches(in, i, eq, TOKEN)) {
                token = ascii(in, eq + 1, tEnd);
            } else if (matches(in, i, eq, RESUME)) {
                resume = digits(in, eq + 1, tEnd);
                if (resume < 0) {
                    return malformed(in, h, 400, "resume must be a non-negative number");
                }
            } else if (matches(in, i, eq, HB)) {
                hb = (int) Math.min(Integer.MAX_VALUE, digits(in, eq + 1, tEnd));
                if (hb < 0) {
                    return malformed(in, h, 400, "hb must be a non-negative number");
                }
            }
            // Unknown options are ignored, for forward compatibility.
            i = skipSpaces(in, tEnd, end);
        }
        h.onHello(clientId, token, resume, hb);
        return true;
    }

    /** {@code SEND <id> <n>}: delivered once the payload and its LF have arrived, the line left unread until then. */
    private boolean send(ByteBuf in, Handler h, int from, int end, int lf) {
        int idEnd = tokenEnd(in, from, end);
        int lenStart = skipSpaces(in, idEnd, end);
        long length = digits(in, lenStart, tokenEnd(in, lenStart, end));
        if (!SwbIds.isValid(in, from, idEnd) || length < 0) {
            return malformed(in, h, 400, "SEND needs <id> <length>");
        }
        if (length > maxPayloadBytes()) {
            return malformed(in, h, 413, "payload larger than " + maxPayloadBytes() + " bytes");
        }
        int payloadStart = lf + 1;
        if (!arrived(in, payloadStart, length)) {
            return false;
        }
        int payloadEnd = payloadStart + (int) length;
        if (in.getByte(payloadEnd) != LF) {
            return malformed(in, h, 400, "payload not followed by LF");
        }
        String id = ascii(in, from, idEnd);
        byte[] payload = new byte[(int) length];
        in.getBytes(payloadStart, payload);
        in.readerIndex(payloadEnd + 1);
        h.onSend(id, payload);
        return true;
    }

    private static void topic(ByteBuf in, Handler h, SwbVerb verb, int from, int to) {
        if (!SwbIds.isValid(in, from, to)) {
            h.onError(400, verb.name() + " topic must be " + ID_RULE);
        } else if (verb == SwbVerb.SUB) {
            h.onSub(ascii(in, from, to));
        } else {
            h.onUnsub(ascii(in, from, to));
        }
    }

    private static boolean malformed(ByteBuf in, Handler h, int code, String text) {
        in.skipBytes(in.readableBytes());
        h.onMalformed(code, text);
        return false;
    }

    private static SwbVerb verb(ByteBuf b, int from, int to) {
        if (matches(b, from, to, ACK)) {
            return SwbVerb.ACK; // the most frequent, by far
        } else if (matches(b, from, to, PING)) {
            return SwbVerb.PING;
        } else if (matches(b, from, to, PONG)) {
            return SwbVerb.PONG;
        } else if (matches(b, from, to, SEND)) {
            return SwbVerb.SEND;
        } else if (matches(b, from, to, SUB)) {
            return SwbVerb.SUB;
        } else if (matches(b, from, to, UNSUB)) {
            return SwbVerb.UNSUB;
        } else if (matches(b, from, to, HELLO)) {
            return SwbVerb.HELLO;
        } else if (matches(b, from, to, BYE)) {
            return SwbVerb.BYE;
        } else if (matches(b, from, to, AUTH)) {
            return SwbVerb.AUTH;
        }
        return SwbVerb.UNKNOWN;
    }

    /** Bytes as ASCII, anything else printed as '?': safe to echo on one line. */
    private static String printable(ByteBuf b, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            byte c = b.getByte(i);
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
        }
        return sb.toString();
    }

    private static String ascii(ByteBuf b, int from, int to) {
        return b.toString(from, to - from, StandardCharsets.US_ASCII);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
