package io.switchboard.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AttributeKey;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One request and its place in its connection's order. Answers may be ready on any thread (many complete on a
 * session's loop) and in any order; they are written on the connection's own loop strictly in request order, as
 * HTTP/1.1 requires for pipelined requests.
 *
 * <p>Backpressure: a connection is not read while its answers cannot be written (the channel is not writable) or
 * while {@link #MAX_PENDING_ANSWERS} of its requests wait for their answers to be written, so a client that pipelines
 * requests and never reads holds a bounded amount of memory. Once its input is shut down (a half-close) the
 * connection is closed after the answers of the requests already received are written.
 */
final class Exchange {
    /** Requests taken but not answered on the wire after which the connection is no longer read. */
    static final int MAX_PENDING_ANSWERS = 64;
    /**
     * Bytes of request bodies taken but not answered on the wire after which the connection is no longer read: an
     * answer is about as large as its request (a batch's has a result per message), and answers that wait behind
     * an earlier request's (a stored push on a slow disk) are held until their turn.
     */
    static final long MAX_PENDING_REQUEST_BYTES = 4L << 20;
    private static final AttributeKey<Order> ORDER = AttributeKey.valueOf("switchboard.api.order");
    private static final DefaultHttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory()
            .withValidation(false);

    private final ChannelHandlerContext ctx;
    private final long ticket;
    private final boolean keepAlive;
    /** Its request's body bytes, counted in {@link Order#pendingBytes} until its answer is written. */
    private final int requestBytes;
    /** Set once by {@link #respond}; the loop takes it when writing. */
    private FullHttpResponse answer;

    private Exchange(ChannelHandlerContext ctx, long ticket, boolean keepAlive, int requestBytes) {
        this.ctx = ctx;
        this.ticket = ticket;
        this.keepAlive = keepAlive;
        this.requestBytes = requestBytes;
    }

    /** Gives a new connection its order, with the gauge of connections whose reading is paused; on its loop. */
    static void attach(Channel ch, AtomicInteger readingPaused) {
        ch.attr(ORDER).set(new Order(readingPaused));
    }

    /**
     * Takes the next place in the connection's order; call on the connection's loop, in request order. Returns
     * {@code null} once a request without keep-alive was taken: the connection closes after answering it.
     */
    static Exchange begin(ChannelHandlerContext ctx, boolean keepAlive) {
        return begin(ctx, keepAlive, 0);
    }

    /** As above, for a request of {@code requestBytes} of body (see {@link #MAX_PENDING_REQUEST_BYTES}). */
    static Exchange begin(ChannelHandlerContext ctx, boolean keepAlive, int requestBytes) {
        Order order = order(ctx.channel());
        if (order.closing) {
            return null;
        }
        order.closing = !keepAlive;
        order.reading = true;
        Exchange ex = new Exchange(ctx, order.nextTicket++, keepAlive, requestBytes);
        order.pendingBytes += requestBytes;
        updateReading(ctx.channel(), order);
        return ex;
    }

    /** Requests of this connection taken but whose answers are not yet written; on the connection's loop. */
    static long pendingAnswers(Channel ch) {
        Order order = ch.attr(ORDER).get();
        return order == null ? 0 : order.nextTicket - order.nextToWrite;
    }

    /** A request without keep-alive was taken, or the peer's output ended: nothing after it is served. */
    static boolean closing(Channel ch) {
        Order order = ch.attr(ORDER).get();
        return order != null && order.closing;
    }

    /** Reads again, or stops reading, as the channel's writability and its pending answers say; on its loop. */
    static void updateReading(Channel ch) {
        updateReading(ch, order(ch));
    }

    /**
     * The peer shut its output down: no request follows. Closes the connection once the answers of the requests
     * already taken are written (at once when there are none); on the connection's loop.
     */
    static void inputClosed(ChannelHandlerContext ctx) {
        Order order = order(ctx.channel());
        order.closing = true;
        if (order.nextToWrite == order.nextTicket) {
            // Whatever is still in the outbound buffer goes out before the close.
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The connection closed: its paused reading no longer counts; on its loop. */
    static void closed(Channel ch) {
        Order order = ch.attr(ORDER).get();
        if (order != null && order.paused) {
            order.paused = false;
            if (order.readingPaused != null) {
                order.readingPaused.decrementAndGet();
            }
        }
    }

    /** Answers this request; safe from any thread. */
    void respond(HttpResponseStatus status, byte[] body, String contentType) {
        respond(status, body, contentType, null, null);
    }

    /** Answers this request with one extra header (none when {@code headerName} is null); safe from any thread. */
    void respond(HttpResponseStatus status, byte[] body, String contentType, CharSequence headerName,
                 String headerValue) {
        // Headers this class sets itself (no validation to pay for), and no trailers: answers have a Content-Length.
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body),
                HEADERS.newHeaders(), EmptyHttpHeaders.INSTANCE);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (headerName != null) {
            res.headers().set(headerName, headerValue);
        }
        answer = res;
        Order order = order(ctx.channel());
        if (ctx.executor().inEventLoop()) {
            place(order);
            if (!order.reading) {
                flush(ctx, order); // else channelReadComplete flushes everything answered during the read at once
            }
            return;
        }
        // From another loop: answers that complete together cross over in one task and leave in one flush.
        order.arrived.offer(this);
        if (order.drainQueued.compareAndSet(false, true)) {
            try {
                ctx.executor().execute(() -> drain(ctx, order));
            } catch (RejectedExecutionException stopped) {
                // The connection's loop has stopped (the server is closing), and its channel with it: nobody to
                // answer. Not an error to answer again: this answer was given, it just has nowhere to go.
                order.arrived.clear();
            }
        }
    }

    /** Every request read since the last call was answered or handed on: writes out what is waiting; on the loop. */
    static void readComplete(ChannelHandlerContext ctx) {
        Order order = ctx.channel().attr(ORDER).get();
        if (order != null) {
            order.reading = false;
            flush(ctx, order);
        }
    }

    private static void drain(ChannelHandlerContext ctx, Order order) {
        order.drainQueued.set(false); // before polling: an answer offered from now on queues a new drain
        Exchange ex;
        while ((ex = order.arrived.poll()) != null) {
            ex.place(order);
        }
        flush(ctx, order); // a task runs between reads: nothing else would flush these
    }

    private static void flush(ChannelHandlerContext ctx, Order order) {
        if (order.unflushed) {
            order.unflushed = false;
            ctx.flush();
            // Written but unflushed answers count against writability: with them gone, reading may resume.
            updateReading(ctx.channel(), order);
        }
    }

    /** Writes this answer when its turn has come, and every answer waiting behind it; on the connection's loop. */
    private void place(Order order) {
        if (ticket != order.nextToWrite) {
            order.ready.put(ticket, this); // an earlier request is not answered yet
            return;
        }
        Exchange next = this;
        while (next != null) {
            if (next.write(order)) {
                return;
            }
            next = order.ready.isEmpty() || order.ready.firstKey() != order.nextToWrite ? null
                    : order.ready.pollFirstEntry().getValue();
        }
        updateReading(ctx.channel(), order);
    }

    /** Writes this answer, next in order; true when it was the connection's last. */
    private boolean write(Order order) {
        FullHttpResponse res = answer;
        answer = null;
        order.nextToWrite++;
        order.pendingBytes -= requestBytes;
        // The last answer of a closing connection (no keep-alive, or the input shut down) says so and closes.
        boolean last = !keepAlive || order.closing && order.nextToWrite == order.nextTicket;
        res.headers().set(HttpHeaderNames.CONNECTION, last ? HttpHeaderValues.CLOSE : HttpHeaderValues.KEEP_ALIVE);
        if (!last) {
            ctx.write(res, ctx.voidPromise());
            order.unflushed = true;
            return false;
        }
        order.unflushed = false;
        closeAfter(ctx.writeAndFlush(res));
        // Nothing after a closing answer is written; release what is still waiting.
        order.ready.values().forEach(r -> r.answer.release());
        order.ready.clear();
        return true;
    }

    /** How long a connection answered for the last time goes on reading (and dropping) what its peer still sends. */
    static final long LINGER_MS = 2_000;

    /**
     * Closes the connection once {@code lastAnswer} is written, lingering: its output shut down first (the peer reads
     * the answer and the end), and what the peer still sends read and dropped until it closes or {@link #LINGER_MS}
     * passed. Closed at once, a socket with unread input is reset by the kernel, and a peer still sending the body of
     * a request answered early (401 on its head, 503 body memory full, 413) gets that reset instead of the answer:
     * clients that send the whole body before reading (urllib3, HttpURLConnection) report a connection reset, and the
     * promised {@code Retry-After} is lost. Over TLS (whose end is a close_notify) it closes at once, as before.
     */
    static void closeAfter(ChannelFuture lastAnswer) {
        Channel ch = lastAnswer.channel();
        lastAnswer.addListener(written -> {
            if (written.isSuccess() && ch instanceof io.netty.handler.codec.http2.Http2StreamChannel && ch.isActive()) {
                // An HTTP/2 stream whose request is still coming (answered early: 401, 413, 503): the answer is
                // whole, and RST_STREAM NO_ERROR asks the client to stop sending without error (RFC 9113 8.1). A
                // plain close sent CANCEL, after which a client may drop the answer, and its Retry-After with it.
                ch.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(
                        io.netty.handler.codec.http2.Http2Error.NO_ERROR)).addListener(reset -> ch.close());
                return;
            }
            if (!written.isSuccess() || !(ch instanceof io.netty.channel.socket.DuplexChannel d) || !ch.isActive()
                    || d.isInputShutdown() || ch.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null) {
                ch.close();
                return;
            }
            d.shutdownOutput().addListener(shut -> {
                if (!shut.isSuccess()) {
                    ch.close();
                    return;
                }
                ch.config().setAutoRead(true); // dropped by the handlers: no request after the last is served
                ch.eventLoop().schedule(() -> {
                    ch.close();
                }, LINGER_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
            });
        });
    }

    private static Order order(Channel ch) {
        Order order = ch.attr(ORDER).get();
        if (order == null) {
            Order made = new Order(null); // a channel set up without ApiServer's initializer (tests)
            order = ch.attr(ORDER).setIfAbsent(made);
            order = order == null ? made : order;
        }
        return order;
    }

    private static void updateReading(Channel ch, Order order) {
        if (!ch.isOpen()) {
            return; // closed (closed() took its pause back): an answer that came after must not count a new one
        }
        boolean read = ch.isWritable() && order.nextTicket - order.nextToWrite < MAX_PENDING_ANSWERS
                && order.pendingBytes < MAX_PENDING_REQUEST_BYTES;
        if (read == !order.paused) {
            return;
        }
        order.paused = !read;
        if (order.readingPaused != null) {
            order.readingPaused.addAndGet(read ? -1 : 1);
        }
        ch.config().setAutoRead(read);
    }

    /** A connection's request order. Owned by the connection's loop. */
    private static final class Order {
        final AtomicInteger readingPaused;
        long nextTicket;
        long nextToWrite;
        /** Body bytes of the requests taken whose answers are not written yet. */
        long pendingBytes;
        boolean closing;
        boolean paused;
        /** A request is being read: answers written meanwhile are flushed together when the read completes. */
        boolean reading;
        /** Answers were written and not flushed yet. */
        boolean unflushed;
        /** Answers ready before an earlier request's: written once their turn comes. */
        final TreeMap<Long, Exchange> ready = new TreeMap<>();
        /** Answers completed on other threads, not yet placed. */
        final Queue<Exchange> arrived = new ConcurrentLinkedQueue<>();
        final AtomicBoolean drainQueued = new AtomicBoolean();

        Order(AtomicInteger readingPaused) {
            this.readingPaused = readingPaused;
        }
    }
}
