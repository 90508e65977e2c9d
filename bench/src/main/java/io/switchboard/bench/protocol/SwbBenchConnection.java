package io.switchboard.bench.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * An SWB/1 client like a real device: {@code HELLO}, established on {@code WELCOME}, one cumulative {@code ACK}
 * per read batch, {@code PING} when it has sent nothing for {@code hb} seconds, {@code PONG} to a server
 * {@code PING}. {@code BYE} and {@code ERR} count as errors. Owned by its channel's event loop.
 */
final class SwbBenchConnection extends BenchConnection {
    private int payloadLength = -1;
    private long payloadSeq;
    private long highestSeq;
    private long ackedSeq;

    SwbBenchConnection(BenchEnv env, String clientId, int hbSec, long connectStartNs) {
        super(env, clientId, hbSec, connectStartNs);
    }

    @Override
    String protocol() {
        return "swb";
    }

    @Override
    void onConnected() {
        write("HELLO " + clientId + " v=1 hb=" + hbSec() + "\n");
    }

    @Override
    void ping() {
        write("PING\n");
    }

    @Override
    void onReadComplete() {
        if (highestSeq > ackedSeq) {
            ackedSeq = highestSeq;
            write("ACK " + highestSeq + "\n");
        }
    }

    @Override
    boolean decodeOne(ByteBuf b) {
        if (payloadLength >= 0) {
            if (b.readableBytes() < payloadLength + 1) {
                return false;
            }
            if (payloadSeq > highestSeq) {
                highestSeq = payloadSeq;
            }
            onPayload(b, b.readerIndex(), payloadLength);
            b.skipBytes(payloadLength + 1);
            payloadLength = -1;
            return true;
        }
        int from = b.readerIndex();
        int to = takeLine(b);
        if (to < 0) {
            return false;
        }
        if (startsWith(b, from, to, "MSG ")) {
            onMsgLine(b, from + 4, to);
        } else if (startsWith(b, from, to, "WELCOME ")) {
            established();
        } else if (startsWith(b, from, to, "PING") && to - from == 4) {
            write("PONG\n");
        } else if (startsWith(b, from, to, "BYE ") || startsWith(b, from, to, "ERR ")) {
            report(reason(b.toString(from, to - from, StandardCharsets.US_ASCII)));
        }
        return true;
    }

    /** {@code MSG <seq> <n>}: the payload of {@code n} bytes and an LF follow. */
    private void onMsgLine(ByteBuf b, int from, int to) {
        int sp = b.indexOf(from, to, (byte) ' ');
        long seq = sp < 0 ? -1 : parseLong(b, from, sp);
        long n = sp < 0 ? -1 : parseLong(b, sp + 1, to);
        if (seq < 0 || n < 0 || n > MAX_FRAME) {
            fail("swb: malformed MSG line");
            return;
        }
        payloadSeq = seq;
        payloadLength = (int) n;
    }

    /** {@code BYE 409 taken over retry=1500} → {@code BYE 409 taken over}; long ERR lines are cut. */
    static String reason(String line) {
        if (line.startsWith("BYE ")) {
            String code = line.length() >= 7 ? line.substring(4, 7) : line;
            return "BYE " + code + (line.length() > 8 ? " " + line.substring(8).replaceAll(" retry=.*", "") : "");
        }
        return line.length() > 40 ? line.substring(0, 40) : line;
    }
}
