package io.switchboard.bench.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;

/**
 * One load-generator client: its channel's protocol handler. This base keeps what every protocol shares: the read
 * cumulation (a buffer only while a frame is incomplete), registration with the loop's heartbeat sweep, the
 * handshake latency, payload latency ({@code 'P'} or {@code 'B'} followed by epoch microseconds, as the bench
 * pushes them), error reporting, and one flush per read batch. A subclass encodes its handshake and heartbeat and
 * decodes one frame at a time. Owned by its channel's event loop.
 */
public abstract sealed class BenchConnection extends ChannelInboundHandlerAdapter
        permits SwbBenchConnection, RawBenchConnection, MqttBenchConnection, RedisBenchConnection,
        NatsBenchConnection {
    /** Longer than any control line a peer sends (SWB/1 allows 1,024 bytes; a NATS INFO naming a cluster, more). */
    static final int MAX_LINE = 64 * 1024;
    /** More than any frame a peer sends a bench client (SWB/1 payloads go up to 16 MiB). */
    static final int MAX_FRAME = 16 * 1024 * 1024 + MAX_LINE;
    /**
     * The client id of the channel, subject or topic every peer client also subscribes to when the run times a
     * broadcast through a peer ({@code bench:all}, {@code bench.all}, {@code bench/all}): the peers' fan-out.
     */
    public static final String BROADCAST_ID = "all";

    private final BenchEnv env;
    final String clientId;
    private final int hbSec;
    private final long connectStartNs;
    ChannelHandlerContext ctx;
    private ByteBuf cumulation;
    private long lastSentNs;
    private boolean established;
    /** The connection failed: decode nothing more (it is closing). */
    private boolean failed;
    /** An error was counted for this connection: its close during the handshake is no further error. */
    private boolean reported;
    /** Index in the loop's {@link ConnectionList}, -1 when not listed. */
    int slot = -1;

    BenchConnection(BenchEnv env, String clientId, int hbSec, long connectStartNs) {
        this.env = env;
        this.clientId = clientId;
        this.hbSec = hbSec;
        this.connectStartNs = connectStartNs;
    }

    /** Short protocol name, the prefix of this connection's error reasons. */
    abstract String protocol();

    /** The TCP connection is up: start the handshake (writes are flushed after). */
    abstract void onConnected();

    /**
     * Decodes the next frame from {@code in} (or every whole one: SWB/1's shared parser does). Returns false,
     * reading nothing, when the frame is not complete yet; true when it consumed some. May {@link #fail} instead.
     */
    abstract boolean decodeOne(ByteBuf in);

    /** Writes this protocol's heartbeat (flushed after). */
    abstract void ping();

    /** Called once per read batch, before the flush (SWB/1 acknowledges here). */
    void onReadComplete() {
    }

    @Override
    public final void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        lastSentNs = System.nanoTime();
        env.opened(this);
        onConnected();
        ctx.flush();
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) {
        env.closed(this);
        if (!established && !reported) {
            env.error(protocol() + ": closed during handshake");
        }
        failed = true;
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            if (cumulation == null) {
                decode(in);
                if (in.isReadable()) {
                    cumulation = ctx.alloc().buffer(Math.max(256, in.readableBytes()));
                    cumulation.writeBytes(in);
                }
            } else {
                cumulation.discardReadBytes();
                cumulation.writeBytes(in);
                decode(cumulation);
            }
            if (cumulation != null) {
                if (!cumulation.isReadable()) {
                    cumulation.release();
                    cumulation = null;
                } else if (cumulation.readableBytes() > MAX_FRAME) {
                    fail(protocol() + ": frame too large");
                    cumulation.release();
                    cumulation = null;
                }
            }
        } finally {
            in.release();
        }
    }

    private void decode(ByteBuf in) {
        while (in.isReadable() && !failed && decodeOne(in)) {
            // one frame per turn
        }
        if (failed) {
            in.skipBytes(in.readableBytes());
        }
    }

    @Override
    public final void channelReadComplete(ChannelHandlerContext ctx) {
        if (!failed) {
            onReadComplete();
        }
        ctx.flush();
    }

    @Override
    public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        this.ctx = ctx;
        fail(cause instanceof IOException ? "io: " + shortMessage(cause) : cause.getClass().getSimpleName());
    }

    /** Called by the loop's sweep: sends a heartbeat when this connection has sent nothing for {@code hb}. */
    public final void heartbeat(long nowNs) {
        if (established && !failed && hbSec > 0 && nowNs - lastSentNs >= hbSec * 1_000_000_000L) {
            env.pingSent();
            ping();
            ctx.flush();
        }
    }

    /** Closes the connection (on its loop). */
    public final void close() {
        if (ctx != null) {
            ctx.close();
        }
    }

    final int hbSec() {
        return hbSec;
    }

    /** The handshake completed (counted once). */
    final void established() {
        if (!established) {
            established = true;
            env.established(System.nanoTime() - connectStartNs);
        }
    }

    /** Reports a protocol error and closes: the rest of the input is discarded. */
    final void fail(String reason) {
        report(reason);
        failed = true;
        ctx.close();
    }

    /** Reports an error the connection survives; should the peer then close, that is not counted again. */
    final void report(String reason) {
        reported = true;
        env.error(reason);
    }

    final void write(String text) {
        ByteBuf buf = ctx.alloc().ioBuffer(ByteBufUtil.utf8Bytes(text));
        ByteBufUtil.writeUtf8(buf, text);
        write(buf);
    }

    final void write(ByteBuf buf) {
        lastSentNs = System.nanoTime();
        ctx.write(buf, ctx.voidPromise());
    }

    /** A message's payload arrived: counts it, and records its latency when it carries an intended send time. */
    final void onPayload(ByteBuf b, int from, int length) {
        env.messageReceived();
        if (length < 2) {
            return;
        }
        byte kind = b.getByte(from);
        if (kind != 'P' && kind != 'B') {
            return;
        }
        long sentUs = parseLong(b, from + 1, from + length);
        if (sentUs <= 0) {
            return;
        }
        long latencyUs = epochMicros() - sentUs;
        if (latencyUs < 0) {
            env.error("clock: arrival before intended send time");
        }
        if (kind == 'P') {
            env.pushLatency(latencyUs);
        } else {
            env.broadcastLatency(latencyUs);
        }
    }

    /**
     * The index of the next LF at or after the reader index, or -1 when there is none yet; fails the connection
     * when a line grows longer than {@link #MAX_LINE}.
     */
    final int lineEnd(ByteBuf b) {
        int lf = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) '\n');
        if (lf < 0 && b.readableBytes() > MAX_LINE) {
            fail(protocol() + ": line too long");
        }
        return lf;
    }

    /**
     * Consumes one whole line: the line starts at the reader index before the call and ends (CR stripped) at the
     * index returned; -1 (nothing consumed) while the line is incomplete.
     */
    final int takeLine(ByteBuf b) {
        int lf = lineEnd(b);
        if (lf < 0) {
            return -1;
        }
        int from = b.readerIndex();
        b.readerIndex(lf + 1);
        return lf > from && b.getByte(lf - 1) == '\r' ? lf - 1 : lf;
    }

    /** Non-negative decimal digits from {@code from} up to the first non-digit before {@code to}; -1 when none. */
    static long parseLong(ByteBuf b, int from, int to) {
        long v = 0;
        int i = from;
        for (; i < to && i - from < 18; i++) {
            byte c = b.getByte(i);
            if (c < '0' || c > '9') {
                break;
            }
            v = v * 10 + (c - '0');
        }
        return i == from ? -1 : v;
    }

    /** Whether the bytes at {@code from} are {@code ascii}. */
    static boolean startsWith(ByteBuf b, int from, int to, String ascii) {
        if (to - from < ascii.length()) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            if (b.getByte(from + i) != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Wall-clock microseconds, comparable with the intended send times the bench writes into payloads. */
    static long epochMicros() {
        return io.switchboard.bench.EpochClock.micros();
    }

    /** The useful tail of an exception message ("Connection reset by peer"), for an error counter key. */
    public static String shortMessage(Throwable t) {
        String m = t.getMessage();
        if (m == null) {
            return t.getClass().getSimpleName();
        }
        int colon = m.lastIndexOf(": ");
        return colon >= 0 ? m.substring(colon + 2) : m;
    }
}
