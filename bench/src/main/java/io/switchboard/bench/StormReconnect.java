package io.switchboard.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.util.random.RandomGenerator;

/**
 * Sits in front of the protocol handler of a connection opened after a {@code --storm} drop: when that connection
 * is lost it asks for the next attempt, after exponential backoff with full jitter (base 1 s, cap 60 s) or after
 * the server's {@code BYE ... retry=<ms>} when one arrived. Reading passes every buffer on untouched. One instance
 * per connection, used only by its event loop.
 */
final class StormReconnect extends ChannelInboundHandlerAdapter {
    static final long BASE_MS = 1_000;
    static final long CAP_MS = 60_000;
    /** A connection that lived this long counts as back: if it is lost later, backoff starts again from zero. */
    static final long STABLE_NS = 10_000_000_000L;
    /** Jitter added to a server-requested retry: a tenth of it, at most this much (as the client library does). */
    static final long MAX_RETRY_JITTER_MS = 1_000;

    private static final ByteBuf BYE = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("BYE ", StandardCharsets.US_ASCII)).asReadOnly();
    private static final ByteBuf RETRY = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("retry=", StandardCharsets.US_ASCII)).asReadOnly();

    /** Schedules a client's next connection attempt; called on the lost connection's event loop. */
    interface Reconnector {
        void reconnectLater(EventLoop loop, int client, int attempt, long retryMs);
    }

    private final Reconnector reconnector;
    private final int client;
    private final int attempt;
    private long activeNs;
    private long retryMs = -1;

    StormReconnect(Reconnector reconnector, int client, int attempt) {
        this.reconnector = reconnector;
        this.client = client;
        this.attempt = attempt;
    }

    int client() {
        return client;
    }

    int attempt() {
        return attempt;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        activeNs = System.nanoTime();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b) {
            long hint = retryHintMs(b);
            if (hint >= 0) {
                retryMs = hint;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ctx.fireChannelInactive();
        int next = System.nanoTime() - activeNs >= STABLE_NS ? 0 : attempt + 1;
        reconnector.reconnectLater(ctx.channel().eventLoop(), client, next, retryMs);
    }

    /** The {@code retry=} of a {@code BYE} line in these bytes (without consuming them), or -1. */
    static long retryHintMs(ByteBuf b) {
        int bye = ByteBufUtil.indexOf(BYE.duplicate(), b);
        if (bye < 0) {
            return -1;
        }
        int lf = b.indexOf(bye, b.writerIndex(), (byte) '\n');
        int end = lf < 0 ? b.writerIndex() : lf;
        int at = ByteBufUtil.indexOf(RETRY.duplicate(), b.slice(bye, end - bye));
        if (at < 0) {
            return -1;
        }
        long v = 0;
        int digits = 0;
        for (int i = bye + at + RETRY.readableBytes(); i < end && digits < 9; i++, digits++) {
            byte c = b.getByte(i);
            if (c < '0' || c > '9') {
                break;
            }
            v = v * 10 + (c - '0');
        }
        return digits == 0 ? -1 : v;
    }

    /** Upper bound of attempt {@code attempt}'s delay: {@code min(cap, base * 2^attempt)}. */
    static long ceilingMs(int attempt) {
        return attempt >= 20 ? CAP_MS : Math.min(CAP_MS, BASE_MS << attempt);
    }

    /** Full jitter, {@code uniform[0, ceiling]}; or the server's retry plus up to a tenth of it (at most 1 s). */
    static long delayMs(int attempt, long retryMs, RandomGenerator random) {
        if (retryMs >= 0) {
            long jitter = Math.min(MAX_RETRY_JITTER_MS, retryMs / 10);
            return jitter == 0 ? retryMs : retryMs + random.nextLong(jitter + 1);
        }
        return random.nextLong(ceilingMs(attempt) + 1);
    }
}
