package io.switchboard.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import java.nio.charset.StandardCharsets;

/**
 * Counts the body of each request against {@link BodyMemory} while it arrives, before it is gathered: a request
 * whose declared length does not fit at its head is answered 503 in its turn and its body dropped as it comes (as
 * {@link TokenGate} does); every body is counted piece by piece as it arrives and, once a piece does not fit, cut
 * off: the aggregator gets a failed last piece, and {@link ApiHandler} answers the request 503. The bytes are given
 * back once the whole body went on (or the connection ended). One per connection (or stream), on its loop.
 */
final class BodyBudget extends ChannelInboundHandlerAdapter {
    /** Why a body was cut off: {@link ApiHandler} answers a request failed with it 503. */
    static final class Full extends RuntimeException {
        Full(String message) {
            super(message, null, false, false);
        }
    }

    private final BodyMemory memory;
    private final GatewayMetrics metrics;
    /** The largest body: one declared larger is the aggregator's to refuse (413), and is not taken here. */
    private final int maxBody;
    /** Bytes taken for the body arriving now. */
    private long taken;
    /** A body is arriving whose pieces are taken as they come (false once given back past the largest body). */
    private boolean counting;
    /** The rest of a refused body is still arriving: dropped. */
    private boolean discarding;

    BodyBudget(BodyMemory memory, GatewayMetrics metrics, int maxBody) {
        this.memory = memory;
        this.metrics = metrics;
        this.maxBody = maxBody;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            giveBack();
            discarding = false;
            if (msg instanceof LastHttpContent || req.decoderResult().isFailure()) {
                ctx.fireChannelRead(msg); // whole already (HTTP/2), or answered 400 as the decoder failed it
                return;
            }
            // Taken piece by piece as they arrive, not ahead: heads that declare bodies which never come would hold
            // the memory for nothing. A declared body that does not fit now is refused before it comes.
            long declared = HttpUtil.getContentLength(req, -1L);
            if (declared > 0 && declared <= maxBody && !memory.fits(declared)) {
                ReferenceCountUtil.release(msg);
                discarding = true;
                refuse(ctx, declared);
                return;
            }
            counting = declared <= maxBody; // one declared larger is refused at its head (413): dropped, not held
        } else if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (discarding) {
                discarding = !last;
                content.release();
                return;
            }
            if (last) {
                // The whole body is here: nothing more to hold back (a push's body, one piece, is never counted).
                try {
                    ctx.fireChannelRead(msg);
                } finally {
                    giveBack();
                }
                return;
            }
            int bytes = content.content().readableBytes();
            if (counting && bytes > 0 && taken + bytes > maxBody) {
                giveBack(); // the aggregator refuses it (413) and drops it and the rest: not gathered, not counted
            } else if (counting && bytes > 0) {
                if (!memory.take(bytes)) {
                    content.release();
                    discarding = true;
                    cutOff(ctx, bytes);
                    return;
                }
                taken += bytes;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        giveBack();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        giveBack();
    }

    private void giveBack() {
        if (taken > 0) {
            memory.give(taken);
        }
        taken = 0;
        counting = false;
    }

    private String reason(long more) {
        return "the API holds " + memory.held() / 1024 + " KiB of request bodies as they arrive; " + more
                + " bytes more would pass --api-max-body-memory (" + memory.max() / (1024 * 1024) + " MiB): retry";
    }

    /** A request whose declared body does not fit: answered 503 in its turn, then the connection (stream) closes. */
    private void refuse(ChannelHandlerContext ctx, long declared) {
        Exchange ex = Exchange.begin(ctx, false);
        if (ex == null) {
            return; // an earlier request closes the connection: nothing after it is answered
        }
        metrics.refused(Refusal.API_BODY_MEMORY);
        byte[] body = ("{\"error\":\"" + reason(declared) + "\",\"status\":503}").getBytes(StandardCharsets.UTF_8);
        ex.respond(HttpResponseStatus.SERVICE_UNAVAILABLE, body, "application/json", HttpHeaderNames.RETRY_AFTER, "1");
    }

    /** A chunked body that stops fitting: the aggregator gets a failed last piece (see {@link ApiHandler}). */
    private void cutOff(ChannelHandlerContext ctx, int bytes) {
        String why = reason(bytes);
        giveBack();
        LastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        failed.setDecoderResult(DecoderResult.failure(new Full(why)));
        ctx.fireChannelRead(failed);
    }
}
