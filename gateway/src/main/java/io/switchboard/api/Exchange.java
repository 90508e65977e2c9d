package io.switchboard.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AttributeKey;
import java.util.TreeMap;

/**
 * One request and its place in its connection's order. Answers may be ready on any thread (many complete on a
 * session's loop) and in any order; they are written on the connection's own loop strictly in request order, as
 * HTTP/1.1 requires for pipelined requests.
 */
final class Exchange {
    private static final AttributeKey<Order> ORDER = AttributeKey.valueOf("switchboard.api.order");

    private final ChannelHandlerContext ctx;
    private final long ticket;
    private final boolean keepAlive;

    private Exchange(ChannelHandlerContext ctx, long ticket, boolean keepAlive) {
        this.ctx = ctx;
        this.ticket = ticket;
        this.keepAlive = keepAlive;
    }

    /**
     * Takes the next place in the connection's order; call on the connection's loop, in request order. Returns
     * {@code null} once a request without keep-alive was taken: the connection closes after answering it.
     */
    static Exchange begin(ChannelHandlerContext ctx, boolean keepAlive) {
        Order order = ctx.channel().attr(ORDER).get();
        if (order == null) {
            order = new Order();
            ctx.channel().attr(ORDER).set(order);
        }
        if (order.closing) {
            return null;
        }
        order.closing = !keepAlive;
        return new Exchange(ctx, order.nextTicket++, keepAlive);
    }

    /** Answers this request; safe from any thread. */
    void respond(HttpResponseStatus status, byte[] body, String contentType) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        } else {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        if (ctx.executor().inEventLoop()) {
            deliver(res);
        } else {
            ctx.executor().execute(() -> deliver(res));
        }
    }

    private void deliver(FullHttpResponse res) {
        Order order = ctx.channel().attr(ORDER).get();
        order.ready.put(ticket, new Object[] {res, keepAlive});
        while (!order.ready.isEmpty() && order.ready.firstKey() == order.nextToWrite) {
            Object[] next = order.ready.pollFirstEntry().getValue();
            order.nextToWrite++;
            if ((Boolean) next[1]) {
                ctx.writeAndFlush(next[0], ctx.voidPromise());
            } else {
                ctx.writeAndFlush(next[0]).addListener(ChannelFutureListener.CLOSE);
                // Nothing after a closing answer is written; release what is still waiting.
                order.ready.values().forEach(r -> ((FullHttpResponse) r[0]).release());
                order.ready.clear();
                return;
            }
        }
    }

    /** A connection's request order. Owned by the connection's loop. */
    private static final class Order {
        long nextTicket;
        long nextToWrite;
        boolean closing;
        final TreeMap<Long, Object[]> ready = new TreeMap<>();
    }
}
