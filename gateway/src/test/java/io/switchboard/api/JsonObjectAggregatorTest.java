package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class JsonObjectAggregatorTest {
    @Test
    void aReadEndingInsideABodyDoesNotReadOnWhileReadingIsPaused() {
        AtomicInteger reads = new AtomicInteger();
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                reads.incrementAndGet();
                ctx.read();
            }
        }, new JsonObjectAggregator(1 << 20));
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/clients/x/messages");
        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, 20_000);
        ch.writeInbound(head, new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[8_192])));
        ch.config().setAutoRead(false); // paused by Exchange: this connection's answers wait to be written
        reads.set(0);
        ch.pipeline().fireChannelReadComplete();
        assertEquals(0, reads.get(), "the pause holds: the rest of the body is read once reading is on again");
        ch.writeInbound(new io.netty.handler.codec.http.DefaultLastHttpContent(
                Unpooled.wrappedBuffer(new byte[20_000 - 8_192])));
        ch.finishAndReleaseAll();
    }
}
