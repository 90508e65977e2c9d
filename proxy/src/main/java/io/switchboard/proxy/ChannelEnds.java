package io.switchboard.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
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

    /** Closes {@code ch} after its pending bytes, or at once when it is no longer active. */
    static void closeAfterFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
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
