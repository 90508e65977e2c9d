package io.switchboard.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One load-generator client speaking SWB/1 like a real device: HELLO, cumulative ACK once per read batch, PING
 * when it has sent nothing for {@code hb} seconds (driven by {@link BenchLoop}'s once-a-second sweep). Records
 * handshake and message latencies. Owned by its channel's event loop.
 */
final class SwbBenchConnection extends ChannelInboundHandlerAdapter {
    private static final int MAX_LINE = 4096;

    private final BenchStats stats;
    private final BenchLoop loop;
    private final String clientId;
    private final int hbSec;
    private final long connectStartNs;
    private ChannelHandlerContext ctx;
    private ByteBuf cumulation;
    private int payloadLength = -1;
    private long payloadSeq;
    private long highestSeq;
    private long ackedSeq;
    private boolean welcomed;
    private long lastSentNs;
    int loopIndex = -1;

    SwbBenchConnection(BenchStats stats, BenchLoop loop, String clientId, int hbSec, long connectStartNs) {
        this.stats = stats;
        this.loop = loop;
        this.clientId = clientId;
        this.hbSec = hbSec;
        this.connectStartNs = connectStartNs;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        stats.open.increment();
        loop.add(this);
        write("HELLO " + clientId + " v=1 hb=" + hbSec + "\n");
        ctx.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stats.open.decrement();
        loop.remove(this);
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
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
                if (!cumulation.isReadable()) {
                    cumulation.release();
                    cumulation = null;
                }
            }
        } finally {
            in.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (highestSeq > ackedSeq) {
            ackedSeq = highestSeq;
            write("ACK " + highestSeq + "\n");
        }
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        stats.error(cause instanceof IOException ? "io: " + shortMessage(cause) : cause.getClass().getSimpleName());
        ctx.close();
    }

    /** Called once a second by the loop's sweep: keeps the connection alive like a real client. */
    void heartbeat(long nowNs) {
        if (welcomed && hbSec > 0 && nowNs - lastSentNs >= hbSec * 1_000_000_000L) {
            stats.pings.increment();
            write("PING\n");
            ctx.flush();
        }
    }

    void close() {
        if (ctx != null) {
            ctx.close();
        }
    }

    private void decode(ByteBuf b) {
        while (b.isReadable()) {
            if (payloadLength >= 0) {
                if (b.readableBytes() < payloadLength + 1) {
                    return;
                }
                onMessage(b, b.readerIndex(), payloadLength);
                b.skipBytes(payloadLength + 1);
                payloadLength = -1;
                continue;
            }
            int lf = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) '\n');
            if (lf < 0) {
                if (b.readableBytes() > MAX_LINE) {
                    stats.error("line too long from server");
                    ctx.close();
                    b.skipBytes(b.readableBytes());
                }
                return;
            }
            String line = b.toString(b.readerIndex(), lf - b.readerIndex(), StandardCharsets.US_ASCII);
            b.readerIndex(lf + 1);
            onLine(line);
        }
    }

    private void onLine(String line) {
        if (line.startsWith("MSG ")) {
            int sp = line.indexOf(' ', 4);
            payloadSeq = Long.parseLong(line, 4, sp, 10);
            payloadLength = Integer.parseInt(line, sp + 1, line.length(), 10);
        } else if (line.startsWith("WELCOME ")) {
            welcomed = true;
            stats.established.increment();
            stats.lastWelcomeNs.accumulateAndGet(System.nanoTime(), Math::max);
            BenchStats.recordSafely(stats.handshakeUs, (System.nanoTime() - connectStartNs) / 1000);
        } else if (line.startsWith("BYE ")) {
            String code = line.length() >= 7 ? line.substring(4, 7) : line;
            stats.error("BYE " + code + (line.length() > 8 ? " " + line.substring(8).replaceAll(" retry=.*", "") : ""));
        } else if (line.startsWith("ERR ")) {
            stats.error(line.length() > 40 ? line.substring(0, 40) : line);
        }
    }

    private void onMessage(ByteBuf b, int from, int length) {
        stats.messages.increment();
        if (payloadSeq > highestSeq) {
            highestSeq = payloadSeq;
        }
        if (length > 1) {
            byte kind = b.getByte(from);
            if (kind == 'P' || kind == 'B') {
                long sentUs = parseLong(b, from + 1, from + length);
                if (sentUs > 0) {
                    long latencyUs = EpochClock.micros() - sentUs;
                    if (latencyUs < 0) {
                        stats.error("clock: arrival before intended send time");
                    }
                    if (kind == 'P') {
                        BenchStats.recordSafely(stats.pushUs, latencyUs);
                    } else {
                        BenchStats.recordSafely(stats.broadcastUs, latencyUs);
                        stats.broadcastReceived.increment();
                    }
                }
            }
        }
    }

    private void write(String s) {
        lastSentNs = System.nanoTime();
        ByteBuf buf = ctx.alloc().ioBuffer(s.length());
        ByteBufUtil.writeAscii(buf, s);
        ctx.write(buf, ctx.voidPromise());
    }

    private static long parseLong(ByteBuf b, int from, int to) {
        long v = 0;
        for (int i = from; i < to; i++) {
            byte c = b.getByte(i);
            if (c < '0' || c > '9') {
                break;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    static String shortMessage(Throwable t) {
        String m = t.getMessage();
        if (m == null) {
            return t.getClass().getSimpleName();
        }
        int colon = m.lastIndexOf(": ");
        return colon >= 0 ? m.substring(colon + 2) : m;
    }
}
