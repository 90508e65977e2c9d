package io.switchboard.bench.protocol;

import io.netty.buffer.ByteBuf;
import io.switchboard.swb.SwbFrames;
import io.switchboard.swb.SwbServerFrameParser;
import io.switchboard.swb.SwbVerb;

/**
 * An SWB/1 client like a real device: {@code HELLO}, established on {@code WELCOME}, cumulative {@code ACK}s as the
 * client library sends them (at the end of a read batch once {@code ackEvery} messages wait, else {@code ackDelayMs}
 * after the oldest unacknowledged one; a delay of 0 acknowledges every read batch), {@code PING} when it has sent
 * nothing for {@code hb} seconds, {@code PONG} to a server {@code PING}. {@code BYE} and {@code ERR} count as errors; input that is not SWB/1 fails the connection. Frames
 * are parsed by the shared {@link SwbServerFrameParser}. Owned by its channel's event loop.
 */
final class SwbBenchConnection extends BenchConnection implements SwbServerFrameParser.Handler {
    /** Lines as long as any peer sends a bench client, payloads up to the SWB/1 maximum of 16 MiB. */
    private static final SwbServerFrameParser PARSER = new SwbServerFrameParser(MAX_LINE, MAX_FRAME - MAX_LINE);
    private static final int MAX_ERR_REASON = 40;

    private final int ackEvery;
    private final long ackDelayMs;
    private long highestSeq;
    private long ackedSeq;
    /** Messages received since the last ACK. */
    private int unacked;
    /** The ACK due {@code ackDelayMs} after the oldest unacknowledged message, while one is. */
    private io.netty.util.concurrent.ScheduledFuture<?> ackTimer;

    SwbBenchConnection(BenchEnv env, String clientId, int hbSec, long connectStartNs, int ackEvery, long ackDelayMs) {
        super(env, clientId, hbSec, connectStartNs);
        this.ackEvery = ackEvery;
        this.ackDelayMs = ackDelayMs;
    }

    @Override
    String protocol() {
        return "swb";
    }

    @Override
    void onConnected() {
        write(SwbFrames.line(ctx.alloc(), SwbFrames.helloLine(clientId, null, -1, hbSec())));
    }

    @Override
    void ping() {
        write(SwbFrames.ping(ctx.alloc()));
    }

    @Override
    void onReadComplete() {
        if (unacked == 0) {
            return;
        }
        if (unacked >= ackEvery || ackDelayMs == 0) {
            ack();
        } else if (ackTimer == null) {
            ackTimer = ctx.executor().schedule(this::ackDue, ackDelayMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    /** The oldest unacknowledged message has waited {@code ackDelayMs}. */
    private void ackDue() {
        ackTimer = null;
        if (unacked > 0 && ctx.channel().isActive()) {
            ack();
            ctx.flush();
        }
    }

    /** Acknowledges everything received (written; the caller flushes). */
    private void ack() {
        if (ackTimer != null) {
            ackTimer.cancel(false);
            ackTimer = null;
        }
        unacked = 0;
        if (highestSeq > ackedSeq) {
            ackedSeq = highestSeq;
            write(SwbFrames.ack(ctx.alloc(), highestSeq));
        }
    }

    /** Parses every whole frame there is (the parser leaves an incomplete one unread). */
    @Override
    boolean decodeOne(ByteBuf b) {
        int before = b.readerIndex();
        PARSER.parse(b, this);
        return b.readerIndex() != before;
    }

    @Override
    public void onWelcome(String clientId, int hbSec, long seq, String node) {
        established();
    }

    @Override
    public void onMsg(long seq, ByteBuf buf, int index, int length) {
        if (seq > highestSeq) {
            highestSeq = seq;
        }
        unacked++;
        onPayload(buf, index, length);
    }

    @Override
    public void onPing() {
        write(SwbFrames.pong(ctx.alloc()));
    }

    @Override
    public void onPong() {
    }

    @Override
    public void onSent(String id) {
    }

    @Override
    public void onNack(String id, int code, String text) {
    }

    @Override
    public void onOk(String verb, String subject) {
    }

    /** Long ERR lines are cut, to keep the error counter's keys few. */
    @Override
    public void onErr(int code, String text) {
        String line = "ERR " + code + (text.isEmpty() ? "" : " " + text);
        report(line.length() > MAX_ERR_REASON ? line.substring(0, MAX_ERR_REASON) : line);
    }

    /** Counted without its retry hint: {@code BYE 409 taken over retry=1500} is {@code BYE 409 taken over}. */
    @Override
    public void onBye(int code, String text, long retryMs) {
        report("BYE " + code + (text.isEmpty() ? "" : " " + text));
    }

    /** One error key per verb, not per offending line. */
    @Override
    public void onMalformed(SwbVerb verb, String reason) {
        fail(verb == null ? "swb: line too long" : verb == SwbVerb.UNKNOWN ? "swb: unknown frame"
                : "swb: malformed " + verb + " line");
    }
}
