package io.switchboard.api;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Sits before {@link JsonObjectAggregator}: a request whose body comes whole, as the decoder's head followed by its
 * last content (a push's small body read at once, or no body), is joined here into one {@link FullHttpRequest} around
 * that same buffer, which the aggregator passes on untouched; it would otherwise build a composite buffer and its
 * component array for the one piece (a tenth of a push's garbage). Everything else (a body in several pieces, one
 * larger than the limit, {@code Expect}, chunked, a decoder failure) goes to the aggregator as it came, which then
 * handles it as before. A head left waiting when the connection ends holds no buffer: nothing to release. One per
 * connection or stream, on its loop.
 */
final class OnePieceRequests extends ChannelInboundHandlerAdapter {
    private final int maxBody;
    /** A head waiting for its body's first piece; null when none. Not reference-counted (no content of its own). */
    private HttpRequest head;

    OnePieceRequests(int maxBody) {
        this.maxBody = maxBody;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (head != null) {
            HttpRequest h = head;
            head = null;
            if (msg instanceof LastHttpContent last && last.decoderResult().isSuccess()
                    && last.content().readableBytes() <= maxBody) {
                ctx.fireChannelRead(new DefaultFullHttpRequest(h.protocolVersion(), h.method(), h.uri(),
                        last.content(), h.headers(), last.trailingHeaders()));
                return;
            }
            ctx.fireChannelRead(h); // the aggregator takes it from here, this piece and those after it included
        } else if (msg instanceof HttpRequest req && !(msg instanceof HttpContent) && joinable(req)) {
            head = req;
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /** A head whose whole body can come as one last piece, with nothing for the aggregator to answer first. */
    private boolean joinable(HttpRequest req) {
        return req.decoderResult().isSuccess()
                && !req.headers().contains(HttpHeaderNames.EXPECT)
                && !HttpUtil.isTransferEncodingChunked(req)
                && HttpUtil.getContentLength(req, 0L) <= maxBody;
    }
}
