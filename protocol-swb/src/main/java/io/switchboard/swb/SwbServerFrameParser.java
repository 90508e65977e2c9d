package io.switchboard.swb;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Parses the frames an SWB/1 server sends (what a client reads): {@code WELCOME}, {@code MSG} with its payload,
 * {@code PING}, {@code PONG}, {@code SENT}, {@code NACK}, {@code OK}, {@code ERR}, {@code BYE}. Blank lines are
 * ignored; anything else that is not SWB/1 (unknown verb, bad number, payload over the limit or not followed by LF,
 * a line over the limit) is reported once to {@link Handler#onMalformed}. See {@link SwbParser} for buffers and
 * threading.
 */
public final class SwbServerFrameParser extends SwbParser<SwbServerFrameParser.Handler> {
    private static final int MAX_ECHO = 80;

    /** Receives the frames of one connection, on the thread that parses its input. */
    public interface Handler {
        /**
         * {@code WELCOME <client-id> v=1 hb=<s> seq=<n> [node=<name>]}; {@code node} is null when absent. Unknown
         * {@code key=value} attributes are ignored: later servers may add some.
         */
        void onWelcome(String clientId, int hbSec, long seq, String node);

        /**
         * {@code MSG <seq> <n>} and its payload: bytes {@code [index, index + length)} of {@code buf}, readable
         * only during the call (copy them to keep them; the buffer is not retained).
         */
        void onMsg(long seq, ByteBuf buf, int index, int length);

        /**
         * {@code MSG <seq> <n>} with a payload over the parser's limit. Returning true, the caller takes it upon itself
         * to skip the next {@code n + 1} bytes (the payload and its LF) before anything is parsed again: the parser
         * has consumed the control line and stops there (what follows it in the buffer is left unread). Returning false
         * (the default) makes it malformed input, {@link #onMalformed}.
         */
        default boolean onOversizedMsg(long seq, long n) {
            return false;
        }

        void onPing();

        void onPong();

        /** {@code SENT <id>}. */
        void onSent(String id);

        /** {@code NACK <id> <code> <text>}. */
        void onNack(String id, int code, String text);

        /** {@code OK <verb> <subject>}, e.g. {@code OK SUB news}. */
        void onOk(String verb, String subject);

        /** {@code ERR <code> <text>}. */
        void onErr(int code, String text);

        /** {@code BYE <code> <text> [retry=<ms>]}; {@code retryMs} is -1 when absent; a bare {@code BYE} is code 0. */
        void onBye(int code, String text, long retryMs);

        /**
         * The input is not SWB/1: {@code verb} is the offending frame's ({@link SwbVerb#UNKNOWN} when the line has
         * no server verb), null when no whole line arrived within the limit. The parser has consumed the buffer and
         * stopped; the caller discards all further input.
         */
        void onMalformed(SwbVerb verb, String reason);
    }

    /** @param maxLineBytes the longest control line, LF included; @param maxPayloadBytes the largest MSG payload */
    public SwbServerFrameParser(int maxLineBytes, int maxPayloadBytes) {
        super(maxLineBytes, maxPayloadBytes);
    }

    @Override
    public void parse(ByteBuf in, Handler h) {
        while (in.isReadable() && frame(in, h)) {
            // one frame per turn
        }
    }

    /** The frame at the reader index: true when it was consumed, false when incomplete or malformed. */
    private boolean frame(ByteBuf in, Handler h) {
        int start = in.readerIndex();
        int lf = lineEnd(in);
        if (lf < 0) {
            return lf == TOO_LONG && malformed(in, h, null, lineTooLong());
        }
        int end = textEnd(in, start, lf);
        if (end == start) {
            in.readerIndex(lf + 1);
            return true;
        }
        if (end - start > 4 && in.getByte(start) == 'M' && in.getByte(start + 1) == 'S' && in.getByte(start + 2) == 'G'
                && in.getByte(start + 3) == SP) {
            return msg(in, h, start, end, lf);
        }
        String text = in.toString(start, end - start, StandardCharsets.UTF_8);
        in.readerIndex(lf + 1);
        int space = text.indexOf(' ');
        SwbVerb verb = verb(space < 0 ? text : text.substring(0, space));
        String rest = space < 0 ? "" : text.substring(space + 1);
        boolean delivered = switch (verb) {
            case WELCOME -> welcome(rest, h);
            case PING -> {
                h.onPing();
                yield true;
            }
            case PONG -> {
                h.onPong();
                yield true;
            }
            case SENT -> sent(rest, h);
            case NACK -> nack(rest, h);
            case OK -> ok(rest, h);
            case ERR -> err(rest, h);
            case BYE -> bye(rest, h);
            default -> false;
        };
        return delivered || malformed(in, h, verb, "not an SWB/1 server frame: " + printable(text));
    }

    /** {@code MSG <seq> <n>}, parsed from the bytes (the hot path); delivered once its payload and LF arrived. */
    private boolean msg(ByteBuf in, Handler h, int start, int end, int lf) {
        int space = in.indexOf(start + 4, end, SP);
        long seq = space < 0 ? -1 : digits(in, start + 4, space);
        long n = space < 0 ? -1 : digits(in, space + 1, end);
        if (seq < 1 || n < 0) {
            return malformed(in, h, SwbVerb.MSG,
                    "not an SWB/1 server frame: " + printable(in.toString(start, end - start, StandardCharsets.UTF_8)));
        }
        if (n > maxPayloadBytes()) {
            if (h.onOversizedMsg(seq, n)) {
                in.readerIndex(lf + 1);
                return false;
            }
            return malformed(in, h, SwbVerb.MSG,
                    "MSG " + seq + ": payload of " + n + " bytes exceeds the limit of " + maxPayloadBytes());
        }
        int payloadStart = lf + 1;
        if (!arrived(in, payloadStart, n)) {
            return false;
        }
        int payloadEnd = payloadStart + (int) n;
        if (in.getByte(payloadEnd) != LF) {
            return malformed(in, h, SwbVerb.MSG, "MSG " + seq + ": payload not followed by LF");
        }
        in.readerIndex(payloadEnd + 1);
        h.onMsg(seq, in, payloadStart, (int) n);
        return true;
    }

    private static boolean welcome(String rest, Handler h) {
        String[] words = rest.split(" ", -1);
        if (!SwbIds.isValid(words[0])) {
            return false;
        }
        long hb = -1;
        long seq = -1;
        String node = null;
        for (int i = 1; i < words.length; i++) {
            String w = words[i];
            if (w.startsWith("v=")) {
                if (!w.equals("v=1")) {
                    return false;
                }
            } else if (w.startsWith("hb=")) {
                hb = digits(w, 3);
            } else if (w.startsWith("seq=")) {
                seq = digits(w, 4);
            } else if (w.startsWith("node=")) {
                node = w.substring(5);
            } else if (w.indexOf('=') <= 0) {
                return false;
            }
        }
        if (hb < 0 || hb > Integer.MAX_VALUE || seq < 0) {
            return false;
        }
        h.onWelcome(words[0], (int) hb, seq, node == null || node.isEmpty() ? null : node);
        return true;
    }

    private static boolean sent(String rest, Handler h) {
        if (rest.isEmpty()) {
            return false;
        }
        int space = rest.indexOf(' ');
        h.onSent(space < 0 ? rest : rest.substring(0, space));
        return true;
    }

    private static boolean nack(String rest, Handler h) {
        int s1 = rest.indexOf(' ');
        if (s1 <= 0) {
            return false;
        }
        int s2 = rest.indexOf(' ', s1 + 1);
        int code = code(s2 < 0 ? rest.substring(s1 + 1) : rest.substring(s1 + 1, s2));
        if (code < 0) {
            return false;
        }
        h.onNack(rest.substring(0, s1), code, s2 < 0 ? "" : rest.substring(s2 + 1));
        return true;
    }

    private static boolean ok(String rest, Handler h) {
        if (rest.isEmpty()) {
            return false;
        }
        int space = rest.indexOf(' ');
        h.onOk(space < 0 ? rest : rest.substring(0, space), space < 0 ? "" : rest.substring(space + 1));
        return true;
    }

    private static boolean err(String rest, Handler h) {
        int space = rest.indexOf(' ');
        int code = code(space < 0 ? rest : rest.substring(0, space));
        if (code < 0) {
            return false;
        }
        h.onErr(code, space < 0 ? "" : rest.substring(space + 1));
        return true;
    }

    private static boolean bye(String rest, Handler h) {
        if (rest.isEmpty()) {
            h.onBye(0, "", -1);
            return true;
        }
        int space = rest.indexOf(' ');
        int code = code(space < 0 ? rest : rest.substring(0, space));
        if (code < 0) {
            return false;
        }
        String text = space < 0 ? "" : rest.substring(space + 1);
        long retryMs = -1;
        int last = text.lastIndexOf(' ');
        String lastWord = text.substring(last + 1);
        if (lastWord.startsWith("retry=")) {
            retryMs = digits(lastWord, 6);
            if (retryMs < 0) {
                return false;
            }
            text = last < 0 ? "" : text.substring(0, last);
        }
        h.onBye(code, text, retryMs);
        return true;
    }

    private static boolean malformed(ByteBuf in, Handler h, SwbVerb verb, String reason) {
        in.skipBytes(in.readableBytes());
        h.onMalformed(verb, reason);
        return false;
    }

    private static SwbVerb verb(String word) {
        return switch (word) {
            case "WELCOME" -> SwbVerb.WELCOME;
            case "MSG" -> SwbVerb.MSG;
            case "PING" -> SwbVerb.PING;
            case "PONG" -> SwbVerb.PONG;
            case "SENT" -> SwbVerb.SENT;
            case "NACK" -> SwbVerb.NACK;
            case "OK" -> SwbVerb.OK;
            case "ERR" -> SwbVerb.ERR;
            case "BYE" -> SwbVerb.BYE;
            default -> SwbVerb.UNKNOWN;
        };
    }

    /** A status code: 1–3 decimal digits, else -1. */
    private static int code(String s) {
        return s.length() > 3 ? -1 : (int) digits(s, 0);
    }

    /** Unsigned decimal in {@code s[from..]}, 1 to 18 digits; -1 if empty or not all digits. */
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

    /** The start of an offending line, safe to print in a log or exception message. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), MAX_ECHO) + 8);
        for (int i = 0; i < s.length() && i < MAX_ECHO; i++) {
            char c = s.charAt(i);
            sb.append(c >= ' ' && c < 0x7f ? c : '?');
        }
        if (s.length() > MAX_ECHO) {
            sb.append("...");
        }
        return '"' + sb.toString() + '"';
    }
}
