package io.switchboard.api;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/**
 * Netty's aggregator, but a body over the limit is refused with the API's JSON error shape, in its turn among the
 * answers of the requests pipelined before it, and the connection closed after it.
 */
final class JsonObjectAggregator extends HttpObjectAggregator {
    private final int maxBody;

    JsonObjectAggregator(int maxBody) {
        super(maxBody);
        this.maxBody = maxBody;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        // Written at once, it would be read as the answer to an earlier request still waiting for its own (a
        // stored push waiting for the disk): it takes its place in the order instead, then closes.
        Exchange ex = Exchange.begin(ctx, false);
        if (ex == null) {
            return; // an earlier request closes the connection: nothing after it is answered
        }
        byte[] body = ("{\"error\":\"request body larger than " + maxBody + " bytes\",\"status\":413}")
                .getBytes(StandardCharsets.US_ASCII);
        ex.respond(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, body, "application/json");
    }

    /**
     * Only passed on: not Netty's request to read more at the end of a read that left a body unfinished while
     * reading is off. Reading is off on purpose here ({@link Exchange}: the connection's answers wait to be written),
     * and that request read on regardless: a backend pipelining bodies larger than a read, and not reading its
     * answers, was read and served all along, its answers piling up without bound. Exchange turns reading on again.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
    }

    /**
     * {@code 100 Continue} only, and only when no earlier answer is still to come (it would go out before them; the
     * client sends its body anyway after a short wait). Never Netty's own 413 or 417: a body too large is refused in
     * its turn above, an expectation other than 100-continue is ignored.
     */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        String expect = start.headers().get(io.netty.handler.codec.http.HttpHeaderNames.EXPECT);
        if (expect != null && !"100-continue".equalsIgnoreCase(expect)) {
            // Ignored, as RFC 9110 allows. Netty's 417 went out of turn, left the connection open and reset the
            // decoder, so a body sent anyway was read as requests of its own (a request hidden in a body).
            start.headers().remove(io.netty.handler.codec.http.HttpHeaderNames.EXPECT);
            return null;
        }
        if (io.netty.handler.codec.http.HttpUtil.is100ContinueExpected(start)
                && io.netty.handler.codec.http.HttpUtil.getContentLength(start, -1L) > maxContentLength) {
            return null; // refused as any body too large: 413 in its turn, in the API's shape, then closed
        }
        Channel ch = pipeline.channel();
        return Exchange.pendingAnswers(ch) > 0 ? null : super.newContinueResponse(start, maxContentLength, pipeline);
    }
}
