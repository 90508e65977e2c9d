package io.switchboard.bench.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A NATS client: on the server's {@code INFO} it sends {@code CONNECT} (not verbose), {@code SUB bench.<id> 1}
 * (and {@code SUB bench.all 2} when the run times a broadcast) and {@code PING}; the {@code PONG} counts as established (the server has processed the subscription). It
 * answers the server's {@code PING}, sends its own when it has sent nothing for hb, and counts each {@code MSG}.
 * A {@code -ERR} counts as an error (the server closes when it is fatal). Owned by its channel's event loop.
 */
final class NatsBenchConnection extends BenchConnection {
    static final String CONNECT = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";

    private boolean connectSent;
    private int payloadLength = -1;

    /** Also subscribed to {@code bench.all}, the broadcast subject. */
    private final boolean broadcastToo;

    NatsBenchConnection(BenchEnv env, String clientId, int hbSec, long connectStartNs, boolean broadcastToo) {
        super(env, clientId, hbSec, connectStartNs);
        this.broadcastToo = broadcastToo;
    }

    @Override
    String protocol() {
        return "nats";
    }

    @Override
    void onConnected() {
        // The server speaks first (INFO).
    }

    @Override
    void ping() {
        write("PING\r\n");
    }

    @Override
    boolean decodeOne(ByteBuf b) {
        if (payloadLength >= 0) {
            if (b.readableBytes() < payloadLength + 2) {
                return false;
            }
            onPayload(b, b.readerIndex(), payloadLength);
            b.skipBytes(payloadLength + 2);
            payloadLength = -1;
            return true;
        }
        int from = b.readerIndex();
        int to = takeLine(b);
        if (to < 0) {
            return false;
        }
        if (startsWith(b, from, to, "MSG ")) {
            // MSG <subject> <sid> [reply-to] <#bytes>: the size is the last word.
            int sp = b.forEachByteDesc(from, to - from, value -> value != ' ');
            long n = sp < 0 ? -1 : parseLong(b, sp + 1, to);
            if (n < 0 || n > MAX_FRAME) {
                fail("nats: malformed MSG line");
            } else {
                payloadLength = (int) n;
            }
        } else if (startsWith(b, from, to, "PING")) {
            write("PONG\r\n");
        } else if (startsWith(b, from, to, "PONG")) {
            established();
        } else if (startsWith(b, from, to, "INFO ")) {
            if (!connectSent) {
                connectSent = true;
                write(CONNECT + "SUB bench." + clientId + " 1\r\n"
                        + (broadcastToo ? "SUB bench." + BROADCAST_ID + " 2\r\n" : "") + "PING\r\n");
            }
        } else if (startsWith(b, from, to, "-ERR")) {
            report("nats: " + b.toString(from, Math.min(to - from, 60), StandardCharsets.UTF_8));
        } else if (!startsWith(b, from, to, "+OK")) {
            fail("nats: unexpected line");
        }
        return true;
    }
}
