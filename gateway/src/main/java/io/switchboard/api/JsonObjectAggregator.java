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
     * No interim answer (100 Continue, or Netty's own 413 or 417) while earlier answers are still to come: it would
     * go out before them. The client sends its body anyway after a short wait; a body too large is then refused in
     * its turn above.
     */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Channel ch = pipeline.channel();
        return Exchange.pendingAnswers(ch) > 0 ? null : super.newContinueResponse(start, maxContentLength, pipeline);
    }
}
