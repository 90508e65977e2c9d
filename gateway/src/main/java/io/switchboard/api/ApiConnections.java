package io.switchboard.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's open connections: the cap ({@code --api-max-connections}), each request's header and body deadlines
 * ({@code --api-header-timeout}, {@code --api-body-timeout}) and each connection's idle deadline between requests
 * ({@code --api-idle-timeout}), checked by one sweep a second rather than a timer per request, and the gauges
 * {@code /v1/stats} shows. Thread-safe: connections live on several loops when the API shares the client loops; each
 * {@link Deadline} is changed on its channel's loop only, and a late one is closed there.
 */
final class ApiConnections {
    private static final Logger log = LoggerFactory.getLogger(ApiConnections.class);
    private static final int IDLE = 0;
    private static final int HEADERS = 1;
    private static final int BODY = 2;
    /** Closing after its last answer (a 408, a GOAWAY): closed for good if that is not written within the grace. */
    private static final int CLOSING = 3;
    private static final long CLOSE_GRACE_NS = TimeUnit.SECONDS.toNanos(5);

    private final GatewayMetrics metrics;
    private final LongSupplier monotonicNs;
    private final int maxConnections;
    private final int headerTimeoutSec;
    private final int bodyTimeoutSec;
    private final int idleTimeoutSec;
    private final Set<Deadline> open = ConcurrentHashMap.newKeySet();
    /** Connections admitted and not closed: the cap is taken here before a connection joins {@link #open}. */
    private final AtomicInteger openGauge = new AtomicInteger();
    /** The HTTP/2 streams open on all connections: each request's own deadline. */
    private final Set<Deadline> streams = ConcurrentHashMap.newKeySet();
    private final AtomicInteger streamsGauge = new AtomicInteger();
    /** Connections not read for now because their answers are not written (see {@link Exchange}). */
    final AtomicInteger readingPaused = new AtomicInteger();
    /** Request bodies held while they arrive, all connections and streams together. */
    final BodyMemory bodies;

    ApiConnections(ApiSettings settings, GatewayMetrics metrics, LongSupplier monotonicNs) {
        this.metrics = metrics;
        this.monotonicNs = monotonicNs;
        this.maxConnections = settings.maxConnections();
        this.bodies = new BodyMemory(settings.maxBodyMemory());
        this.headerTimeoutSec = settings.headerTimeoutSec();
        this.bodyTimeoutSec = settings.bodyTimeoutSec();
        this.idleTimeoutSec = settings.idleTimeoutSec();
    }

    int open() {
        return openGauge.get();
    }

    int maxConnections() {
        return maxConnections;
    }

    /** HTTP/2 streams open now on all API connections. */
    int openStreams() {
        return streamsGauge.get();
    }

    /**
     * Admits one HTTP/2 stream (one request) of an admitted connection and returns its deadline handler, which goes
     * after the stream's HTTP/1 conversion: the stream's body must be complete within {@code --api-body-timeout}.
     * Their number per connection is bounded by the connection's SETTINGS_MAX_CONCURRENT_STREAMS.
     */
    Deadline admitStream(Channel stream) {
        Deadline d = new Deadline(stream, true);
        streams.add(d);
        streamsGauge.incrementAndGet();
        // The connection is not idle while it has a stream open (a stream shares its connection's loop).
        Deadline connection = stream.parent().pipeline().get(Deadline.class);
        if (connection != null) {
            connection.streamsOpen++;
        }
        stream.closeFuture().addListener(f -> {
            // The connection's idle time starts before the gauge says the stream is gone: whoever sees it gone (a
            // test advancing its clock, an operator) finds that idle time running from before that moment.
            if (connection != null && --connection.streamsOpen == 0) {
                connection.idleFrom(monotonicNs.getAsLong());
            }
            streams.remove(d);
            streamsGauge.decrementAndGet();
        });
        return d;
    }

    /**
     * Admits a new connection and returns its two deadline handlers (the first goes before the HTTP codec, the
     * second after it), or refuses it beyond the cap: answered 503, closed and counted, and {@code null} returned.
     */
    Deadline admit(Channel ch) {
        // Its deadline joins the sweep before the gauge counts it: whoever sees the connection counted (a test
        // advancing its clock, an operator) finds its deadline running from before that moment.
        Deadline d = new Deadline(ch, false);
        open.add(d);
        if (openGauge.incrementAndGet() > maxConnections) {
            openGauge.decrementAndGet();
            open.remove(d);
            metrics.refused(Refusal.API_MAX_CONNECTIONS);
            byte[] body = ("{\"error\":\"too many API connections (--api-max-connections " + maxConnections
                    + ")\",\"status\":503}").getBytes(StandardCharsets.US_ASCII);
            String head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\nConnection: close\r\n\r\n";
            ch.writeAndFlush(Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body))
                    .addListener(ChannelFutureListener.CLOSE);
            return null;
        }
        Exchange.attach(ch, readingPaused);
        ch.closeFuture().addListener(f -> {
            open.remove(d);
            openGauge.decrementAndGet();
            Exchange.closed(ch);
        });
        return d;
    }

    /**
     * The API stops: each HTTP/1.1 connection takes no further request (what arrives is not acted on) and closes
     * once the answers of the requests it took are written, so that a push carried out just before the stop is
     * answered rather than cut off (its backend would retry it: a duplicate); an HTTP/2 connection is closed at
     * once (its streams in flight are not waited for). From any thread; {@link #openCount()} says when they are
     * gone.
     */
    void closeWhenAnswered() {
        for (Deadline d : open) {
            d.ch.eventLoop().execute(() -> {
                d.closing(monotonicNs.getAsLong());
                io.netty.channel.ChannelHandlerContext h1 = d.ch.pipeline().context(ApiPipeline.H1_HANDLER);
                if (h1 != null) {
                    Exchange.inputClosed(h1);
                } else {
                    d.ch.close(); // HTTP/2 (or not yet one or the other): closed at once, as before
                }
            });
        }
    }

    /** API connections open now. */
    int openCount() {
        return open.size();
    }

    /** Closes every API connection now (the API stops); from any thread. */
    void closeAll() {
        for (Deadline d : open) {
            d.ch.close();
        }
    }

    /**
     * Closes every connection whose request is past its deadline; once a second on one loop (see ApiServer, which
     * counts and logs a failure), each late connection checked again and closed on its own loop.
     */
    void sweep() {
        long now = monotonicNs.getAsLong();
        checkLate(open, now);
        checkLate(streams, now);
    }

    /** Hands each deadline of {@code all} that looks past (or paused) to its channel's loop for a decision. */
    private static void checkLate(Set<Deadline> all, long now) {
        for (Deadline d : all) {
            if (now - d.deadlineNs >= 0 || d.phase != IDLE && !d.ch.config().isAutoRead() || !d.ch.isWritable()
                    || d.stream && d.phase == IDLE && now - d.requestDoneNs >= d.bodyTimeoutNs()) {
                d.ch.eventLoop().execute(() -> d.check(now));
            }
        }
    }

    /**
     * One connection's request deadline. Before the codec it sees the raw bytes (the first byte of a request starts
     * its header deadline); after it, through {@link #afterCodec()}, the decoded request (headers done: the body
     * deadline; its last content: no deadline until the next request's first byte). Changed on its channel's loop
     * only; the sweep reads it from another.
     */
    final class Deadline extends ChannelInboundHandlerAdapter {
        private final Channel ch;
        /** One HTTP/2 stream (a request), not a connection: it never idles out. */
        private final boolean stream;
        private volatile int phase = HEADERS; // a new connection owes its first request's headers
        private volatile long deadlineNs;
        /** Speaks HTTP/2: its requests are streams with deadlines of their own. */
        private boolean multiplexed;
        /** Since when its answers wait for a peer that does not read them (the write buffer full); 0: writable. */
        private long unwritableSinceNs;
        /** HTTP/2 streams open on this connection: while there are any, it is not idle. */
        private int streamsOpen;
        /** A stream's: when its request was whole (its answer due from then on). */
        private volatile long requestDoneNs;
        /** A stream's: since when its answer has waited for a window that has not moved ({@link #answerStalled}). */
        private long stalledSinceNs;
        private int stalledWindow;

        Deadline(Channel ch, boolean stream) {
            this.ch = ch;
            this.stream = stream;
            this.deadlineNs = monotonicNs.getAsLong() + TimeUnit.SECONDS.toNanos(headerTimeoutSec);
        }

        /** The connection switched to HTTP/2 (by ALPN, its preface, or an upgrade): no deadline of its own now. */
        void multiplexed() {
            multiplexed = true;
            idleFrom(monotonicNs.getAsLong());
        }

        /**
         * No request in progress from {@code now}: closed at {@code --api-idle-timeout} unless one starts. Not once
         * closing: an HTTP/2 stream that ends while its connection closes must not trade the close's grace for
         * the idle timeout.
         */
        private void idleFrom(long now) {
            if (phase == CLOSING) {
                return;
            }
            phase = IDLE;
            deadlineNs = now + TimeUnit.SECONDS.toNanos(idleTimeoutSec);
            requestDoneNs = now;
        }

        private long bodyTimeoutNs() {
            return TimeUnit.SECONDS.toNanos(bodyTimeoutSec);
        }

        /**
         * An HTTP/2 stream whose request was whole {@code --api-body-timeout} ago and whose answer has waited that long
         * again for the peer's flow-control window without moving (the stream's window neither granted nor spent:
         * a backend that hung, or a peer holding streams open on purpose, its 401 never sent) ends its connection
         * (GOAWAY), counted as an {@code api_timeout}, as an HTTP/1.1 peer that reads none of its answers does: the
         * socket stays writable (the answer waits in the HTTP/2 codec, not in the socket's buffer), and a stream
         * whose request is whole has no deadline of its own. A peer that reads a large answer slowly moves the window.
         */
        private boolean answerStalled(long now) {
            if (!stream || phase != IDLE || now - requestDoneNs < bodyTimeoutNs()
                    || !(ch instanceof io.netty.handler.codec.http2.Http2StreamChannel s)) {
                return false;
            }
            io.netty.handler.codec.http2.Http2FrameCodec codec =
                    ch.parent().pipeline().get(io.netty.handler.codec.http2.Http2FrameCodec.class);
            io.netty.handler.codec.http2.Http2Stream h2 =
                    codec == null ? null : codec.connection().stream(s.stream().id());
            io.netty.handler.codec.http2.Http2RemoteFlowController flow =
                    codec == null ? null : codec.connection().remote().flowController();
            if (h2 == null || !flow.hasFlowControlled(h2)) {
                stalledSinceNs = 0; // no answer yet (a push still under way), or all of it sent
                return false;
            }
            int window = flow.windowSize(h2);
            if (stalledSinceNs == 0 || window != stalledWindow) {
                stalledSinceNs = now; // waiting from now, or it moved since the last look
                stalledWindow = window;
                return false;
            }
            if (now - stalledSinceNs < bodyTimeoutNs()) {
                return false;
            }
            metrics.refused(Refusal.API_TIMEOUT);
            log.debug("API connection {}: an answer waited {} s (--api-body-timeout) for a flow-control window: closed",
                    ch.parent().remoteAddress(), bodyTimeoutSec);
            ch.parent().close();
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (phase == IDLE && !multiplexed) {
                phase = HEADERS;
                deadlineNs = monotonicNs.getAsLong() + TimeUnit.SECONDS.toNanos(headerTimeoutSec);
            }
            ctx.fireChannelRead(msg);
        }

        ChannelInboundHandlerAdapter afterCodec() {
            return new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (phase == CLOSING) {
                        // Answered 408 (or closed as idle) and closing: the rest of a late request, or one after
                        // it, read while the 408 waits to be written to a peer slow to read, is not acted on (the
                        // client was told it was not; it may send it again).
                        io.netty.util.ReferenceCountUtil.release(msg);
                        return;
                    }
                    if (msg instanceof HttpRequest) {
                        phase = BODY;
                        deadlineNs = monotonicNs.getAsLong() + TimeUnit.SECONDS.toNanos(bodyTimeoutSec);
                    }
                    if (msg instanceof LastHttpContent) {
                        // Bytes of a next request read together with this one's end are not seen as a new read;
                        // such a connection is held like an idle keep-alive one, within the cap.
                        idleFrom(monotonicNs.getAsLong());
                    }
                    ctx.fireChannelRead(msg);
                }
            };
        }

        /** On the channel's loop: closes the request (or the idle connection) if it is still late at {@code now}. */
        private void check(long now) {
            if (phase == CLOSING) {
                if (now - deadlineNs >= 0) {
                    ch.close(); // its last answer could not be written (the peer does not read): closed without
                }
                return;
            }
            if (peerStoppedReading(now) || answerStalled(now)) {
                return;
            }
            if (phase == IDLE) {
                checkIdle(now);
                return;
            }
            if (!ch.config().isAutoRead()) {
                // Not reading is the server's doing (its answers wait to be written): the peer is not late.
                deadlineNs = now + TimeUnit.SECONDS.toNanos(phase == HEADERS ? headerTimeoutSec : bodyTimeoutSec);
            } else if (now - deadlineNs >= 0) {
                expire(now);
            }
        }

        /**
         * A peer that has not read its answers for {@code --api-body-timeout} (its write buffer full all along) is
         * closed, counted as an {@code api_timeout}: reading it is paused meanwhile, which the request deadlines
         * rightly forgive, so without this a backend that hung (or leaks connections it never reads) would hold its
         * connections for ever, up to --api-max-connections, and every other backend would be answered 503.
         */
        /**
         * Writable again: the peer read its answers, so the next time it stops reading has the whole body timeout (the
         * time of an earlier pause, kept while the connection idled writable, closed a busy backend that read all
         * along at its next moment of a full buffer, with the answers of pushes accepted on it).
         */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ch.isWritable()) {
                unwritableSinceNs = 0;
            }
            ctx.fireChannelWritabilityChanged();
        }

        private boolean peerStoppedReading(long now) {
            if (ch.isWritable()) {
                unwritableSinceNs = 0;
                return false;
            }
            if (unwritableSinceNs == 0) {
                unwritableSinceNs = now;
                return false;
            }
            if (now - unwritableSinceNs < TimeUnit.SECONDS.toNanos(bodyTimeoutSec)) {
                return false;
            }
            metrics.refused(Refusal.API_TIMEOUT);
            log.debug("API connection {} has not read its answers for {} s (--api-body-timeout): closed",
                    ch.remoteAddress(), bodyTimeoutSec);
            closing(now);
            ch.close();
            return true;
        }

        /**
         * An idle connection past {@code --api-idle-timeout} is closed without an answer (HTTP/2: after a GOAWAY), as
         * a keep-alive connection may be; one whose answers are still being made, or with a stream open, is not idle,
         * and its idle time starts again. A stream's own deadline never idles out: it ends with its request.
         */
        private void checkIdle(long now) {
            if (now - deadlineNs < 0 || stream) {
                return;
            }
            if (Exchange.pendingAnswers(ch) > 0 || streamsOpen > 0 || !ch.config().isAutoRead()) {
                idleFrom(now);
                return;
            }
            metrics.apiIdleClosed.increment();
            log.debug("API connection {} idle for {} s (--api-idle-timeout): closed", ch.remoteAddress(),
                    idleTimeoutSec);
            closing(now);
            ch.close();
        }

        /**
         * Closing (its last answer or GOAWAY may still be on its way): no request deadline or idle close from now,
         * and closed for good after a grace if that answer cannot be written.
         */
        private void closing(long now) {
            phase = CLOSING;
            deadlineNs = now + CLOSE_GRACE_NS;
        }

        private void expire(long now) {
            metrics.refused(Refusal.API_TIMEOUT);
            String what = phase == HEADERS
                    ? "request headers not complete within " + headerTimeoutSec + " s (--api-header-timeout)"
                    : "request body not complete within " + bodyTimeoutSec + " s (--api-body-timeout)";
            closing(now);
            if (Exchange.pendingAnswers(ch) > 0) {
                // An answer now would be read as the answer to an earlier request: close without one.
                ch.close();
                return;
            }
            byte[] body = ("{\"error\":\"" + what + "\",\"status\":408}").getBytes(StandardCharsets.US_ASCII);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUEST_TIMEOUT, Unpooled.wrappedBuffer(body));
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            // Closed lingering (HTTP/1.1: the peer reads the 408, not a reset; HTTP/2: RST_STREAM NO_ERROR, not CANCEL,
            // after which a client may drop the answer).
            Exchange.closeAfter(ch.writeAndFlush(res));
        }
    }
}
