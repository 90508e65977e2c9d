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
     * How long a closing side may take to accept its last bytes (at most a chunk or a pipe) before it is closed
     * anyway: a peer that stopped reading would otherwise hold its socket, buffer and source port for good, after
     * its connection left every count and sweep.
     */
    static final long CLOSE_FLUSH_LIMIT_MS = 60_000;

    /** Closes {@code ch} after its pending bytes (within {@link #CLOSE_FLUSH_LIMIT_MS}), or at once when inactive. */
    static void closeAfterFlush(Channel ch) {
        if (ch.isActive()) {
            ChannelFuture flushed = ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            if (!flushed.isDone()) {
                var limit = ch.eventLoop().schedule(() -> {
                    ch.close();
                }, CLOSE_FLUSH_LIMIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
                ch.closeFuture().addListener(f -> limit.cancel(false));
            }
        } else {
            ch.close();
        }
    }

    /** Bytes queued on {@code ch} and not yet handed to the kernel. */
    static long pendingBytes(Channel ch) {
        var buf = ch.unsafe().outboundBuffer();
        return buf == null ? 0 : buf.totalPendingWriteBytes();
    }
}
