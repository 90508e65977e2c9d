package io.switchboard.bench.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A Redis pub/sub client speaking RESP2: {@code SUBSCRIBE bench:<id>} (and {@code bench:all} when the run times a
 * broadcast), established on the first {@code subscribe} confirmation; each {@code message} counts as a message; {@code PING} (allowed while subscribed) when it has
 * sent nothing for hb. An error reply counts as an error and closes. Owned by its channel's event loop.
 */
final class RedisBenchConnection extends BenchConnection {
    private static final int MAX_DEPTH = 4;
    private static final String PING = "*1\r\n$4\r\nPING\r\n";
    /** Marks, in {@link #scan}, a value that is not complete yet. */
    private static final int INCOMPLETE = -1;
    /** Marks, in {@link #scan}, a value that is not RESP; the connection has failed. */
    private static final int MALFORMED = -2;

    // Where the scan of the current top-level array found its first and third elements (kind and payload).
    private int kindFrom;
    private int kindLength;
    private int payloadFrom;
    private int payloadLength;

    /** Also subscribed to {@code bench:all}, the broadcast channel. */
    private final boolean broadcastToo;

    RedisBenchConnection(BenchEnv env, String clientId, int hbSec, long connectStartNs, boolean broadcastToo) {
        super(env, clientId, hbSec, connectStartNs);
        this.broadcastToo = broadcastToo;
    }

    @Override
    String protocol() {
        return "redis";
    }

    @Override
    void onConnected() {
        StringBuilder command = new StringBuilder("*").append(broadcastToo ? 3 : 2).append("\r\n$9\r\nSUBSCRIBE\r\n");
        for (String id : broadcastToo ? new String[] {clientId, BROADCAST_ID} : new String[] {clientId}) {
            String channel = "bench:" + id;
            command.append('$').append(channel.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(channel)
                    .append("\r\n");
        }
        write(command.toString());
    }

    @Override
    void ping() {
        write(PING);
    }

    @Override
    boolean decodeOne(ByteBuf b) {
        int start = b.readerIndex();
        kindLength = -1;
        payloadLength = -1;
        int end = scan(b, start, 0, -1);
        if (end == INCOMPLETE || end == MALFORMED) {
            return false;
        }
        b.readerIndex(end);
        byte type = b.getByte(start);
        if (type == '-') {
            int lf = b.indexOf(start, end, (byte) '\n');
            String text = b.toString(start + 1, Math.min(lf - 1 - (start + 1), 60), StandardCharsets.UTF_8);
            fail("redis: " + text);
        } else if ((type == '*' || type == '>') && kindLength >= 0) {
            if (is(b, "subscribe")) {
                established();
            } else if (is(b, "message") && payloadLength >= 0) {
                onPayload(b, payloadFrom, payloadLength);
            }
            // "pong" answers our PING; other replies need nothing
        }
        return true;
    }

    private boolean is(ByteBuf b, String kind) {
        return kindLength == kind.length() && startsWith(b, kindFrom, kindFrom + kindLength, kind);
    }

    /**
     * The index just past the RESP value at {@code i}, {@link #INCOMPLETE} or {@link #MALFORMED}. Bulk strings
     * that are element 0 or 2 of the top-level array ({@code element} ≥ 0) are remembered.
     */
    private int scan(ByteBuf b, int i, int depth, int element) {
        if (i >= b.writerIndex()) {
            return INCOMPLETE;
        }
        int lf = b.indexOf(i, b.writerIndex(), (byte) '\n');
        if (lf < 0) {
            if (b.writerIndex() - i > MAX_LINE) {
                fail("redis: line too long");
                return MALFORMED;
            }
            return INCOMPLETE;
        }
        if (lf - i < 2 || b.getByte(lf - 1) != '\r') {
            fail("redis: malformed reply");
            return MALFORMED;
        }
        byte type = b.getByte(i);
        int next = lf + 1;
        switch (type) {
            case '+', '-', ':' -> {
                return next;
            }
            case '$' -> {
                long n = signedLong(b, i + 1, lf - 1);
                if (n == -1) {
                    return next; // null bulk string
                }
                if (n < 0 || n > MAX_FRAME) {
                    fail("redis: malformed bulk length");
                    return MALFORMED;
                }
                if (b.writerIndex() - next < n + 2) {
                    return INCOMPLETE;
                }
                if (element == 0) {
                    kindFrom = next;
                    kindLength = (int) n;
                } else if (element == 2) {
                    payloadFrom = next;
                    payloadLength = (int) n;
                }
                return next + (int) n + 2;
            }
            case '*', '>' -> {
                long n = signedLong(b, i + 1, lf - 1);
                if (n == -1) {
                    return next; // null array
                }
                if (n < 0 || n > MAX_LINE || depth == MAX_DEPTH) {
                    fail("redis: malformed array");
                    return MALFORMED;
                }
                for (int k = 0; k < n; k++) {
                    next = scan(b, next, depth + 1, depth == 0 ? k : -1);
                    if (next < 0) {
                        return next;
                    }
                }
                return next;
            }
            default -> {
                fail("redis: unexpected reply type");
                return MALFORMED;
            }
        }
    }

    /** An optionally negative decimal filling {@code [from, to)}, or {@link Long#MIN_VALUE} when it is none. */
    private static long signedLong(ByteBuf b, int from, int to) {
        boolean negative = from < to && b.getByte(from) == '-';
        int digits = negative ? from + 1 : from;
        long v = parseLong(b, digits, to);
        if (v < 0 || to - digits > 18) {
            return Long.MIN_VALUE;
        }
        for (int i = digits; i < to; i++) {
            byte c = b.getByte(i);
            if (c < '0' || c > '9') {
                return Long.MIN_VALUE;
            }
        }
        return negative ? -v : v;
    }
}
