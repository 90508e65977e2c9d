package io.switchboard.swb;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * What the two SWB/1 parsers share: the limits, control-line framing (ended by LF, a CR before it ignored, at most
 * {@link #maxLineBytes()} bytes including the LF) and {@link #feed} for input that arrives in pieces.
 *
 * <p>A parser holds no per-connection state. {@link #parse} delivers every whole frame from the reader index of
 * the buffer it is given and leaves an incomplete one unread (a payload frame is delivered only once its payload
 * and LF are there); the caller keeps those bytes until more arrive, so an idle connection holds no buffer and one
 * parser serves every connection with the same limits. Malformed input is reported once, after which the parser
 * has consumed the buffer: the byte stream cannot be framed again, so the caller discards whatever follows.
 * Nothing is thrown for any input. Immutable; safe from any thread (a buffer, of course, from one at a time).
 *
 * @param <H> the handler the frames of this direction are delivered to
 */
public abstract sealed class SwbParser<H> permits SwbClientFrameParser, SwbServerFrameParser {
    /** The SWB/1 default for a control line, LF included. */
    public static final int DEFAULT_MAX_LINE_BYTES = 1024;
    /** The SWB/1 default for a payload. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;

    static final byte LF = '\n';
    static final byte CR = '\r';
    static final byte SP = ' ';
    /** {@link #lineEnd} when no LF can end the line within the limit any more. */
    static final int TOO_LONG = -2;
    private static final int MIN_PENDING_BYTES = 256;

    private final int maxLineBytes;
    private final int maxPayloadBytes;

    SwbParser(int maxLineBytes, int maxPayloadBytes) {
        if (maxLineBytes < 2 || maxPayloadBytes < 0) {
            throw new IllegalArgumentException("limits out of range: line " + maxLineBytes + ", payload "
                    + maxPayloadBytes);
        }
        this.maxLineBytes = maxLineBytes;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    /** The longest control line accepted, LF included. */
    public final int maxLineBytes() {
        return maxLineBytes;
    }

    /** The largest payload accepted. */
    public final int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    /**
     * Delivers the whole frames readable in {@code in} to {@code handler}, advancing the reader index past each
     * before its handler method is called. Stops at an incomplete frame (left unread) or after reporting malformed
     * input (the buffer is then consumed). Does not release {@code in}.
     */
    public abstract void parse(ByteBuf in, H handler);

    /**
     * Parses {@code in} after {@code pending}, the bytes an earlier call left unread (null when none), and returns
     * the bytes now left unread (an incomplete frame, or what follows a pause) in a buffer the caller keeps for
     * the next call, or null when there are none: an idle connection holds no buffer. {@code pending} is either
     * returned or released; {@code in} stays the caller's to release. Should the handler throw, {@code pending}
     * stays the caller's.
     */
    public final ByteBuf feed(ByteBufAllocator alloc, ByteBuf pending, ByteBuf in, H handler) {
        if (pending == null) {
            parse(in, handler);
            if (!in.isReadable()) {
                return null;
            }
            ByteBuf rest = alloc.buffer(Math.max(in.readableBytes(), MIN_PENDING_BYTES));
            rest.writeBytes(in);
            return rest;
        }
        int needed = in.readableBytes();
        if (pending.writableBytes() < needed) {
            pending.discardReadBytes();
            pending.ensureWritable(needed);
        }
        pending.writeBytes(in);
        parse(pending, handler);
        if (pending.isReadable()) {
            return pending;
        }
        pending.release();
        return null;
    }

    /**
     * The index of the LF ending the control line at the reader index; -1 while it has not arrived;
     * {@link #TOO_LONG} when the line is longer than the limit.
     */
    final int lineEnd(ByteBuf in) {
        int start = in.readerIndex();
        int lf = in.indexOf(start, Math.min(in.writerIndex(), start + maxLineBytes), LF);
        return lf < 0 && in.readableBytes() >= maxLineBytes ? TOO_LONG : lf;
    }

    final String lineTooLong() {
        return "control line longer than " + maxLineBytes + " bytes";
    }

    /** Where the text of the line {@code [start, lf]} ends: before a CR that precedes the LF. */
    static int textEnd(ByteBuf b, int start, int lf) {
        return lf > start && b.getByte(lf - 1) == CR ? lf - 1 : lf;
    }

    /** Whether the payload of {@code length} bytes starting at {@code from} and its LF have all arrived. */
    static boolean arrived(ByteBuf b, int from, long length) {
        return b.writerIndex() - from >= length + 1;
    }

    static int tokenEnd(ByteBuf b, int from, int end) {
        int sp = b.indexOf(from, end, SP);
        return sp < 0 ? end : sp;
    }

    static int skipSpaces(ByteBuf b, int from, int end) {
        int i = from;
        while (i < end && b.getByte(i) == SP) {
            i++;
        }
        return i;
    }

    static boolean matches(ByteBuf b, int from, int to, byte[] word) {
        if (to - from != word.length) {
            return false;
        }
        for (int i = 0; i < word.length; i++) {
            if (b.getByte(from + i) != word[i]) {
                return false;
            }
        }
        return true;
    }

    /** A non-negative decimal of 1 to 18 digits in {@code [from, to)}, or -1. */
    static long digits(ByteBuf b, int from, int to) {
        if (to <= from || to - from > 18) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            byte c = b.getByte(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
