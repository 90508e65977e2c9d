package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A request in one piece becomes one FullHttpRequest around its own buffer; anything else is the aggregator's. */
class OnePieceRequestsTest {
    private static final int MAX = 16;

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new OnePieceRequests(MAX), new HttpObjectAggregator(MAX));
    }

    private static HttpRequest post(int contentLength) {
        HttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/clients/a/messages");
        req.headers().set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
        return req;
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void shouldJoinAHeadAndItsWholeBodyAroundTheSameBuffer() {
        EmbeddedChannel ch = channel();
        ByteBuf body = text("hello");

        assertFalse(ch.writeInbound(post(5)), "the head waits for its body");
        ch.writeInbound(new DefaultLastHttpContent(body));

        FullHttpRequest req = ch.readInbound();
        assertSame(body, req.content(), "no composite buffer, no copy");
        assertEquals("/v1/clients/a/messages", req.uri());
        assertEquals("5", req.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        assertTrue(req.decoderResult().isSuccess());
        req.release();
        assertEquals(0, body.refCnt(), "released with the request");
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void shouldJoinARequestWithoutBody() {
        EmbeddedChannel ch = channel();

        ch.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/healthz"),
                LastHttpContent.EMPTY_LAST_CONTENT);

        FullHttpRequest req = ch.readInbound();
        assertEquals(HttpMethod.GET, req.method());
        assertEquals(0, req.content().readableBytes());
        req.release();
        assertFalse(ch.finish());
    }

    @Test
    void shouldLeaveABodyInSeveralPiecesToTheAggregator() {
        EmbeddedChannel ch = channel();

        ch.writeInbound(post(10), new DefaultHttpContent(text("hello")), new DefaultLastHttpContent(text("world")));

        FullHttpRequest req = ch.readInbound();
        assertInstanceOf(CompositeByteBuf.class, req.content(), "aggregated as before");
        assertEquals("helloworld", req.content().toString(StandardCharsets.US_ASCII));
        req.release();
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void shouldLeaveExpectToTheAggregator() {
        EmbeddedChannel ch = channel();
        HttpRequest head = post(5);
        head.headers().set(HttpHeaderNames.EXPECT, "100-continue");

        ch.writeInbound(head);

        FullHttpResponse interim = ch.readOutbound();
        assertEquals(HttpResponseStatus.CONTINUE, interim.status(), "the aggregator saw the head at once");
        interim.release();
        ch.writeInbound(new DefaultLastHttpContent(text("hello")));
        FullHttpRequest req = ch.readInbound();
        assertEquals("hello", req.content().toString(StandardCharsets.US_ASCII));
        req.release();
        assertFalse(ch.finish());
    }

    @Test
    void shouldLeaveABodyOverTheLimitToTheAggregator() {
        EmbeddedChannel ch = channel();

        ch.writeInbound(post(MAX + 1));

        FullHttpResponse refused = ch.readOutbound();
        assertEquals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, refused.status());
        refused.release();
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldLeaveALastPieceOverTheLimitToTheAggregator() {
        EmbeddedChannel ch = channel();
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/broadcast");

        ch.writeInbound(head); // no Content-Length (HTTP/2 may send none): the size shows with the body
        ByteBuf big = text("x".repeat(MAX + 1));
        ch.writeInbound(new DefaultLastHttpContent(big));

        FullHttpResponse refused = ch.readOutbound();
        assertEquals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, refused.status());
        refused.release();
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
        assertEquals(0, big.refCnt());
    }
}
