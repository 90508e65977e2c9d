package io.switchboard.bench.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A bench client's WebSocket (RFC 6455), in front of its protocol handler (SWB/1 on {@code /swb}, MQTT on
 * {@code /mqtt}): sends the upgrade request when the TCP connection is up and tells the handler it is connected only
 * after the {@code 101}; then unwraps the server's frames (any size, fragmented or not, pings answered, a close
 * echoed) into the byte stream the handler decodes, and sends each write as one masked binary message. Hand-rolled
 * like the bench's protocols (no codec handlers): it holds a buffer only while a frame header is incomplete. Owned by
 * its channel's event loop.
 */
final class WebSocketClientFraming extends ChannelDuplexHandler {
    private static final int MAX_HEAD = 8 * 1024;
    private final String path;
    private final String subprotocol;
    /** The answer's head while it comes, then an incomplete frame header or control frame; null otherwise. */
    private ByteBuf pending;
    private boolean upgraded;
    private boolean closing;
    /** Payload bytes of the current data frame still to come. */
    private long remaining;

    /** {@code connection} behind a WebSocket on {@code path}: the two handlers a new channel gets. */
    static ChannelHandler over(String path, String subprotocol, ChannelHandler connection) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new WebSocketClientFraming(path, subprotocol), connection);
            }
        };
    }

    WebSocketClientFraming(String path, String subprotocol) {
        this.path = path;
        this.subprotocol = subprotocol;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        byte[] key = new byte[16];
        ThreadLocalRandom.current().nextBytes(key);
        String request = "GET " + path + " HTTP/1.1\r\nHost: " + ctx.channel().remoteAddress().toString()
                .replaceFirst("^.*/", "") + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n"
                + (subprotocol != null ? "Sec-WebSocket-Protocol: " + subprotocol + "\r\n" : "") + "\r\n";
        ctx.writeAndFlush(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
        // The handler hears of the connection once the upgrade is answered.
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        ByteBuf buf = in;
        if (pending != null) {
            pending.writeBytes(in);
            in.release();
            buf = pending;
            pending = null;
        }
        try {
            if (!upgraded && !upgrade(ctx, buf)) {
                return;
            }
            while (buf.isReadable() && !closing) {
                if (remaining > 0) {
                    int n = (int) Math.min(remaining, buf.readableBytes());
                    remaining -= n;
                    ctx.fireChannelRead(buf.readRetainedSlice(n));
                } else if (!frameHeader(ctx, buf)) {
                    break;
                }
            }
        } finally {
            if (buf.isReadable() && !closing) {
                pending = ctx.alloc().heapBuffer(Math.max(64, buf.readableBytes()));
                pending.writeBytes(buf);
            }
            buf.release();
        }
    }

    /** Reads the 101 answer; false while it is incomplete (or when it refused, having failed the connection). */
    private boolean upgrade(ChannelHandlerContext ctx, ByteBuf buf) {
        int end = -1;
        for (int i = buf.readerIndex(); i + 3 < buf.writerIndex(); i++) {
            if (buf.getInt(i) == 0x0d0a0d0a) {
                end = i;
                break;
            }
        }
        if (end < 0) {
            if (buf.readableBytes() > MAX_HEAD) {
                closing = true;
                ctx.fireExceptionCaught(new java.io.IOException("ws: upgrade answer head too long"));
            }
            return false;
        }
        String head = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.ISO_8859_1);
        buf.readerIndex(end + 4);
        if (!head.startsWith("HTTP/1.1 101")) {
            closing = true;
            ctx.fireExceptionCaught(new java.io.IOException("ws: upgrade refused: " + head.lines().findFirst()
                    .orElse("")));
            return false;
        }
        upgraded = true;
        ctx.fireChannelActive();
        return true;
    }

    private boolean frameHeader(ChannelHandlerContext ctx, ByteBuf buf) {
        int at = buf.readerIndex();
        int available = buf.readableBytes();
        if (available < 2) {
            return false;
        }
        int opcode = buf.getUnsignedByte(at) & 0x0f;
        long length = buf.getUnsignedByte(at + 1) & 0x7f;
        int header = 2;
        if (length == 126) {
            header = 4;
            if (available < header) {
                return false;
            }
            length = buf.getUnsignedShort(at + 2);
        } else if (length == 127) {
            header = 10;
            if (available < header) {
                return false;
            }
            length = buf.getLong(at + 2);
        }
        if (opcode >= 8) { // control: gathered whole
            if (available < header + length) {
                return false;
            }
            buf.skipBytes(header);
            ByteBuf payload = buf.readSlice((int) length);
            if (opcode == 9) {
                ctx.writeAndFlush(masked(ctx, 0x8A, payload));
            } else if (opcode == 8) {
                closing = true;
                ctx.writeAndFlush(masked(ctx, 0x88, payload.slice(0, Math.min(2, payload.readableBytes()))))
                        .addListener(f -> ctx.close());
            }
            return true;
        }
        buf.skipBytes(header);
        remaining = length;
        return true;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (upgraded && msg instanceof ByteBuf b && b.isReadable()) {
            try {
                ctx.write(masked(ctx, 0x82, b), promise);
            } finally {
                ReferenceCountUtil.release(b);
            }
            return;
        }
        ctx.write(msg, promise);
    }

    /** One whole masked frame with a copy of {@code payload}. */
    private static ByteBuf masked(ChannelHandlerContext ctx, int firstByte, ByteBuf payload) {
        int n = payload.readableBytes();
        ByteBuf f = ctx.alloc().ioBuffer(n + 14).writeByte(firstByte);
        if (n < 126) {
            f.writeByte(0x80 | n);
        } else if (n < 65536) {
            f.writeByte(0x80 | 126).writeShort(n);
        } else {
            f.writeByte(0x80 | 127).writeLong(n);
        }
        int mask = ThreadLocalRandom.current().nextInt();
        f.writeInt(mask);
        for (int i = 0; i < n; i++) {
            f.writeByte(payload.getByte(payload.readerIndex() + i) ^ (mask >>> (24 - 8 * (i & 3))));
        }
        return f;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (pending != null) {
            pending.release();
            pending = null;
        }
        if (upgraded) {
            ctx.fireChannelInactive();
        } else if (!closing) {
            ctx.fireExceptionCaught(new java.io.IOException("ws: closed before the upgrade"));
        }
    }
}
