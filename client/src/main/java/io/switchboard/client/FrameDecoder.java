package io.switchboard.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.switchboard.swb.SwbParser;
import io.switchboard.swb.SwbServerFrameParser;
import io.switchboard.swb.SwbVerb;

/**
 * Turns the server's bytes into {@link Frame}s, whatever way TCP split or merged them: the Netty side of the shared
 * {@link SwbServerFrameParser}. It keeps a buffer only while a frame is incomplete.
 *
 * <p>Input that is not SWB/1 (line longer than 1,024 bytes, unknown verb, bad number, payload over the limit or
 * not followed by LF) fires one {@link Frame.Malformed}, closes the channel and discards everything after;
 * nothing is thrown out of the pipeline. Every inbound buffer is released. Blank lines are ignored.
 *
 * <p>Not sharable: one instance per channel, used only on that channel's event loop.
 */
final class FrameDecoder extends ChannelInboundHandlerAdapter implements SwbServerFrameParser.Handler {
    /** A control line is at most this many bytes, LF included (server setting; SWB/1 default). */
    static final int MAX_LINE_BYTES = SwbParser.DEFAULT_MAX_LINE_BYTES;

    private final SwbServerFrameParser parser;
    private ChannelHandlerContext ctx;
    /** The bytes of an incomplete frame; null between frames. */
    private ByteBuf pending;
    private boolean discarding;
    /** Bytes still to drop of a message too large for {@code maxPayloadBytes} (its payload and LF). */
    private long skipping;

    FrameDecoder(int maxPayloadBytes) {
        this.parser = new SwbServerFrameParser(MAX_LINE_BYTES, maxPayloadBytes);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (!discarding) {
                skip(in); // pending is null while skipping: the rest of a skipped message comes first
                if (in.isReadable() && !discarding) {
                    pending = parser.feed(ctx.alloc(), pending, in, this);
                }
                while (skipping > 0 && pending != null) {
                    // A message too large began in what the parser left unread: drop it, and parse what follows.
                    ByteBuf rest = pending;
                    pending = null;
                    skip(rest);
                    if (rest.isReadable() && !discarding) {
                        pending = parser.feed(ctx.alloc(), null, rest, this);
                    }
                    rest.release();
                }
            }
        } catch (RuntimeException e) {
            // A decoder bug must not escape into the pipeline: treat it like bad input.
            releasePending();
            if (!discarding) {
                onMalformed(null, "decoder failure: " + e);
            }
        } finally {
            in.release();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releasePending();
    }

    @Override
    public void onWelcome(String clientId, int hbSec, long seq, String node) {
        ctx.fireChannelRead(new Frame.WelcomeFrame(new Welcome(clientId, hbSec, seq, node)));
    }

    @Override
    public void onMsg(long seq, ByteBuf buf, int index, int length) {
        ctx.fireChannelRead(new Frame.Msg(seq, ByteBufUtil.getBytes(buf, index, length)));
    }

    /**
     * A message over {@code maxPayloadBytes}: dropped, not delivered, and reported ({@link Frame.Skipped}). Closing
     * the connection instead would bring it back at the resume, and cut the client off again, for ever.
     */
    @Override
    public boolean onOversizedMsg(long seq, long n) {
        if (n > SwitchboardClient.MAX_PAYLOAD_BYTES) {
            // Beyond what any server sends (SWB/1's largest payload): a broken stream, not a large message. Skipped,
            // it would swallow every later byte (PONGs too, which keep the silence check quiet) for ever.
            return false;
        }
        skipping = n + 1;
        ctx.fireChannelRead(new Frame.Skipped(seq, n));
        return true;
    }

    /** Drops what is left of a skipped message; its last byte must be the LF after the payload (else malformed). */
    private void skip(ByteBuf buf) {
        int n = (int) Math.min(skipping, buf.readableBytes());
        if (n > 0 && n == skipping && buf.getByte(buf.readerIndex() + n - 1) != '\n') {
            skipping = 0;
            onMalformed(SwbVerb.MSG, "MSG payload not followed by LF (a wrong length)");
            return;
        }
        buf.skipBytes(n);
        skipping -= n;
    }

    @Override
    public void onPing() {
        ctx.fireChannelRead(Frame.Signal.PING);
    }

    @Override
    public void onPong() {
        ctx.fireChannelRead(Frame.Signal.PONG);
    }

    @Override
    public void onSent(String id) {
        ctx.fireChannelRead(new Frame.Sent(id));
    }

    @Override
    public void onNack(String id, int code, String text) {
        ctx.fireChannelRead(new Frame.Nack(id, code, text));
    }

    @Override
    public void onOk(String verb, String subject) {
        ctx.fireChannelRead(new Frame.Ok(verb, subject));
    }

    @Override
    public void onErr(int code, String text) {
        ctx.fireChannelRead(new Frame.Err(code, text));
    }

    @Override
    public void onBye(int code, String text, long retryMs) {
        ctx.fireChannelRead(new Frame.Bye(code, text, retryMs));
    }

    /** The parser has consumed its buffer (feed releases it); everything after is discarded until the close. */
    @Override
    public void onMalformed(SwbVerb verb, String reason) {
        discarding = true;
        ctx.fireChannelRead(new Frame.Malformed(reason));
        ctx.close();
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }
}
