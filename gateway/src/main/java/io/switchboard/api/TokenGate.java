package io.switchboard.api;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import java.nio.charset.StandardCharsets;

/**
 * Checks the bearer token on a request's head, before its body is gathered: a request without it is answered 401
 * in its turn and its body dropped as it arrives, so that a peer without the token cannot make the API hold bodies
 * of up to the body limit (per connection, and per HTTP/2 stream). {@code /healthz} needs no token. One per
 * connection (or stream), on its loop.
 */
final class TokenGate extends ChannelInboundHandlerAdapter {
    private static final byte[] REFUSAL = ("{\"error\":\"missing or wrong bearer token (see --api-token)\","
            + "\"status\":401}").getBytes(StandardCharsets.US_ASCII);

    private final BearerToken token;
    private final GatewayMetrics metrics;
    /** The body of a refused request is still arriving: dropped. */
    private boolean discarding;

    TokenGate(BearerToken token, GatewayMetrics metrics) {
        this.token = token;
        this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            discarding = false;
            if (req.decoderResult().isFailure()) {
                ctx.fireChannelRead(msg); // a request the decoder could not read: answered 400/414/431 as before
                return;
            }
            if (!token.admits(req.headers()) && (!isHealthCheck(req.uri()) || hasBody(req))) {
                discarding = !(msg instanceof LastHttpContent); // a FullHttpRequest has its body already
                ReferenceCountUtil.release(msg);
                refuse(ctx);
                return;
            }
        } else if (discarding && msg instanceof HttpContent content) {
            discarding = !(content instanceof LastHttpContent);
            content.release();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void refuse(ChannelHandlerContext ctx) {
        Exchange ex = Exchange.begin(ctx, false); // then closes: what follows on this connection is not read
        if (ex == null) {
            return; // an earlier request closes the connection: nothing after it is answered
        }
        metrics.refused(Refusal.API_UNAUTHORIZED);
        if (ctx.channel() instanceof io.netty.handler.codec.http2.Http2StreamChannel stream) {
            io.netty.channel.Channel connection = stream.parent(); // (an HTTP/1.1 channel's parent is the listener)
            // An HTTP/2 stream: its connection ends too (GOAWAY, the streams under way answered), as an HTTP/1.1
            // one does: else one stream without the token every few minutes held it past --api-idle-timeout for
            // ever, and enough of them every place under --api-max-connections.
            ctx.channel().closeFuture().addListener(f -> connection.close());
        }
        ex.respond(HttpResponseStatus.UNAUTHORIZED, REFUSAL, "application/json", HttpHeaderNames.WWW_AUTHENTICATE,
                "Bearer realm=\"switchboard\"");
    }

    /** A health check needs no token, but one with a body does: it would be gathered whole like any other. */
    private static boolean hasBody(HttpRequest req) {
        return io.netty.handler.codec.http.HttpUtil.getContentLength(req, 0L) > 0
                || io.netty.handler.codec.http.HttpUtil.isTransferEncodingChunked(req);
    }

    private static boolean isHealthCheck(String target) {
        String uri = ApiRequests.originForm(target);
        int end = uri.indexOf('?');
        return (end < 0 ? uri : uri.substring(0, end)).equals("/healthz");
    }
}
