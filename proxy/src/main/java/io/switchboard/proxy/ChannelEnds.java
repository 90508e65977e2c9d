package io.switchboard.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;

/**
 * Ending one side of a forwarded connection only after the bytes already queued on it: passing a FIN on (shutting
 * the output down) or closing. Stateless; call on the channel's event loop.
 */
final class ChannelEnds {
    /** Shuts the output of the future's channel down once what came before is written; closes it if that failed. */
    static final ChannelFutureListener SHUTDOWN_OUTPUT_AFTER_FLUSH = f -> {
        if (f.isSuccess() && f.channel() instanceof DuplexChannel d) {
            d.shutdownOutput();
        } else {
            f.channel().close();
        }
    };

    private ChannelEnds() {}

    /** Passes a FIN on to {@code ch} after its pending bytes (plain TCP; TLS goes through {@link Tls}). */
    static void shutdownOutputAfterFlush(Channel ch) {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(SHUTDOWN_OUTPUT_AFTER_FLUSH);
    }

    /**
     * How long a closing side may go without accepting any of its last bytes before it is closed anyway: a peer that
     * stopped reading would otherwise hold its socket, buffer and source port for good, after its connection left
     * every count and sweep. A peer that reads, however slowly (a large reply to a client that half-closed after its
     * request), is waited for. Tests lower it.
     */
    static volatile long closeFlushLimitMs = 60_000;

    /**
     * Closes {@code ch} after its pending bytes, or at once when inactive; closed anyway (and counted in
     * {@code cutOff}) once {@link #closeFlushLimitMs} passed without any of them being taken.
     */
    static void closeAfterFlush(Channel ch, java.util.concurrent.atomic.LongAdder cutOff) {
        if (ch.isActive()) {
            ChannelFuture flushed = ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            if (!flushed.isDone()) {
                closeUnlessProgress(ch, flushed, pendingBytes(ch), cutOff);
                ch.closeFuture().addListener(f -> {
                    java.util.concurrent.Future<?> watch = ch.attr(FLUSH_WATCH).getAndSet(null);
                    if (watch != null) {
                        watch.cancel(false);
                    }
                });
            }
        } else {
            ch.close();
        }
    }

    /** The check of a closing channel's progress, to cancel when it closes. */
    private static final io.netty.util.AttributeKey<java.util.concurrent.Future<?>> FLUSH_WATCH =
            io.netty.util.AttributeKey.valueOf("swb-proxy-flush-watch");

    private static void closeUnlessProgress(Channel ch, ChannelFuture flushed, long pendingBefore,
                                            java.util.concurrent.atomic.LongAdder cutOff) {
        java.util.concurrent.Future<?> check = ch.eventLoop().schedule(() -> {
            if (flushed.isDone() || !ch.isOpen()) {
                return;
            }
            long pending = pendingBytes(ch);
            if (pending < pendingBefore) {
                closeUnlessProgress(ch, flushed, pending, cutOff); // it reads: wait on
            } else {
                cutOff.increment();
                ch.close();
            }
        }, closeFlushLimitMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        java.util.concurrent.Future<?> older = ch.attr(FLUSH_WATCH).getAndSet(check);
        if (older != null) {
            older.cancel(false);
        }
    }

    /** Bytes queued on {@code ch} and not yet handed to the kernel. */
    static long pendingBytes(Channel ch) {
        var buf = ch.unsafe().outboundBuffer();
        return buf == null ? 0 : buf.totalPendingWriteBytes();
    }
}
