package io.switchboard.api;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.util.AsciiString;
import io.switchboard.metrics.GatewayMetrics;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An API connection's pipeline. Plain: HTTP/1.1, switched to HTTP/2 when the client opens with the HTTP/2 preface
 * (prior knowledge) or asks to upgrade ({@code Upgrade: h2c}). With TLS: ALPN chooses h2 or HTTP/1.1. Over HTTP/2
 * every stream is one request, served by the same {@link ApiHandler} behind Netty's conversion to HTTP/1 objects, so
 * both versions answer alike; a connection carries at most {@code maxStreams} requests at once. Stateless; its
 * methods run on the API loop.
 */
final class ApiPipeline {
    private static final Logger log = LoggerFactory.getLogger(ApiPipeline.class);
    /** Names of the HTTP/1 handlers after the codec, taken out when the connection switches to HTTP/2. */
    private static final String H1_DEADLINE = "h1-deadline";
    private static final String H1_ONE_PIECE = "h1-one-piece";
    private static final String H1_AGGREGATOR = "h1-aggregator";
    private static final String H1_TOKEN = "h1-token";
    private static final String H1_BODY_BUDGET = "h1-body-budget";
    static final String H1_HANDLER = "h1-api";
    /** Largest body of a request that asks to upgrade to h2c (it is answered over HTTP/2 as stream 1). */
    private static final int MAX_UPGRADE_BODY = 64 * 1024;

    private final ApiSettings settings;
    private final ApiConnections connections;
    private final ApiHandler handler;
    private final int maxBody;

    /** The bearer token, checked on each request's head (see {@link TokenGate}). */
    private final BearerToken token;
    private final GatewayMetrics metrics;

    ApiPipeline(ApiSettings settings, ApiConnections connections, ApiHandler handler, int maxBody,
                GatewayMetrics metrics) {
        this.token = new BearerToken(settings.token());
        this.metrics = metrics;
        this.settings = settings;
        this.connections = connections;
        this.handler = handler;
        this.maxBody = maxBody;
    }

    /** Sets up a new connection, or leaves it to close when it is over {@code --api-max-connections}. */
    void init(Channel c) {
        ApiConnections.Deadline deadline = connections.admit(c);
        if (deadline == null) {
            return; // over --api-max-connections: answered 503 and closing
        }
        c.pipeline().addLast(deadline);
        if (settings.tls() != null) {
            c.pipeline().addLast(settings.tls().newHandler(c.alloc()), new Negotiation(deadline));
            return;
        }
        HttpServerCodec codec = http1Codec();
        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(codec, protocol ->
                AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                        ? new H2cUpgrade(deadline) : null, MAX_UPGRADE_BODY) {
            /**
             * An upgrade request is held whole before the switch, up to MAX_UPGRADE_BODY: one with a larger body
             * (or one of unknown length) is served over HTTP/1.1 instead of refused with Netty's bare 413, and so is
             * one pipelined behind requests not answered yet. Java's
             * HttpClient asks for h2c on the first request of a connection, a batch POST included.
             */
            @Override
            protected boolean shouldHandleUpgradeRequest(io.netty.handler.codec.http.HttpRequest req) {
                // Nor one behind requests still waiting for their answers: the 101 would go out first and be read
                // as their answer, and theirs, written after the switch, would break the HTTP/2 connection.
                // Nor one after a request with Connection: close (nothing after it is served).
                return Exchange.pendingAnswers(c) == 0 && !Exchange.closing(c)
                        && !io.netty.handler.codec.http.HttpUtil.isTransferEncodingChunked(req)
                        && io.netty.handler.codec.http.HttpUtil.getContentLength(req, 0L) <= MAX_UPGRADE_BODY
                        && super.shouldHandleUpgradeRequest(req);
            }
        };
        // Adds the codec and the upgrade handler after itself; the preface instead puts HTTP/2 in their place.
        c.pipeline().addLast(new CleartextHttp2ServerUpgradeHandler(codec, upgrade, new PriorKnowledge(deadline)));
        addHttp1Tail(c.pipeline(), deadline);
    }

    /**
     * Requests the HTTP codec holds decoded ahead of their answers. Reading pauses at {@link Exchange}'s 64 pending
     * answers, but one read already taken can hold many more small pipelined requests (a 64 KiB read, some 40 bytes
     * each): Netty's default of 128 closed a backend that pipelined pushes fast. Bounded by the bytes of that one
     * read.
     */
    static final int MAX_PIPELINED_REQUESTS = 4096;

    private static HttpServerCodec http1Codec() {
        return new HttpServerCodec(new HttpDecoderConfig(), MAX_PIPELINED_REQUESTS);
    }

    /** What follows the HTTP/1.1 codec; answers go out in request order even when ready on session loops. */
    private void addHttp1Tail(ChannelPipeline p, ApiConnections.Deadline deadline) {
        p.addLast(H1_DEADLINE, deadline.afterCodec());
        if (token.required()) {
            p.addLast(H1_TOKEN, new TokenGate(token, metrics));
        }
        p.addLast(H1_BODY_BUDGET, new BodyBudget(connections.bodies, metrics, maxBody));
        p.addLast(H1_ONE_PIECE, new OnePieceRequests(maxBody));
        p.addLast(H1_AGGREGATOR, new JsonObjectAggregator(maxBody));
        p.addLast(H1_HANDLER, handler);
    }

    /**
     * Puts HTTP/2 after {@code ctx} (the frame codec, then one child channel per stream) and takes the HTTP/1 tail
     * out; the connection's own deadline ends, its streams get theirs.
     */
    private void switchToHttp2(ChannelHandlerContext ctx, ApiConnections.Deadline deadline) {
        ChannelPipeline p = ctx.pipeline();
        ChannelHandler[] http2 = http2Handlers();
        // The multiplexer finds the frame codec when it is added: the codec goes first.
        p.addAfter(ctx.name(), "h2-frames", http2[0]);
        p.addAfter("h2-frames", "h2-streams", http2[1]);
        p.addAfter("h2-streams", null, http2[2]);
        removeHttp1Tail(p);
        deadline.multiplexed();
    }

    /**
     * The frame codec, the multiplexer that gives each stream its own channel and pipeline, and the connection's
     * tail ({@link Http2ConnectionTail}).
     */
    private ChannelHandler[] http2Handlers() {
        Http2Settings initial = Http2Settings.defaultSettings().maxConcurrentStreams(settings.maxStreams());
        return new ChannelHandler[] {
                Http2FrameCodecBuilder.forServer().initialSettings(initial).build(),
                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        ApiConnections.Deadline d = connections.admitStream(stream);
                        stream.pipeline().addLast(StreamCodec.INSTANCE, d.afterCodec());
                        if (token.required()) {
                            stream.pipeline().addLast(new TokenGate(token, metrics));
                        }
                        stream.pipeline().addLast(new BodyBudget(connections.bodies, metrics, maxBody),
                                new OnePieceRequests(maxBody), new JsonObjectAggregator(maxBody), handler);
                    }
                }),
                Http2ConnectionTail.INSTANCE};
    }

    /**
     * A stream's frames to HTTP/1 objects and back, one instance for every stream (Netty's codec is sharable, and
     * one per stream was one more object for each request). A body's last DATA frame becomes a last piece without a
     * trailers object of its own: it has no trailers (a request's trailers come as a HEADERS frame, which Netty's
     * code still converts), and that object was a headers table allocated for every push.
     */
    @ChannelHandler.Sharable
    static final class StreamCodec extends Http2StreamFrameToHttpObjectCodec {
        static final StreamCodec INSTANCE = new StreamCodec();

        private StreamCodec() {
            super(true);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, Http2StreamFrame frame, List<Object> out) throws Exception {
            if (frame instanceof Http2DataFrame data && data.isEndStream()) {
                out.add(new DefaultLastHttpContent(data.content().retain(), EmptyHttpHeaders.INSTANCE));
            } else {
                super.decode(ctx, frame, out);
            }
        }
    }

    /**
     * The end of an HTTP/2 connection's pipeline: a peer that shuts its output down (no request can follow) is closed
     * gracefully (GOAWAY; the streams in flight are still answered); a reset or a broken connection is logged at
     * debug and closed. Sharable.
     */
    @ChannelHandler.Sharable
    static final class Http2ConnectionTail extends io.netty.channel.ChannelInboundHandlerAdapter {
        static final Http2ConnectionTail INSTANCE = new Http2ConnectionTail();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                ctx.channel().close();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("API HTTP/2 connection {} ended: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.channel().close();
        }
    }

    private static void removeHttp1Tail(ChannelPipeline p) {
        for (String name : new String[] {H1_DEADLINE, H1_TOKEN, H1_BODY_BUDGET, H1_ONE_PIECE, H1_AGGREGATOR,
                H1_HANDLER}) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
    }

    /** Put in place by the cleartext handler when the connection opens with the HTTP/2 preface. */
    private final class PriorKnowledge extends ChannelHandlerAdapter {
        private final ApiConnections.Deadline deadline;

        PriorKnowledge(ApiConnections.Deadline deadline) {
            this.deadline = deadline;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            switchToHttp2(ctx, deadline);
            ctx.pipeline().remove(this);
        }
    }

    /** {@code Upgrade: h2c}: answered 101, then the request is served as stream 1 over HTTP/2. */
    private final class H2cUpgrade implements HttpServerUpgradeHandler.UpgradeCodec {
        private final ApiConnections.Deadline deadline;
        private final Http2ServerUpgradeCodec delegate;

        H2cUpgrade(ApiConnections.Deadline deadline) {
            this.deadline = deadline;
            ChannelHandler[] http2 = http2Handlers();
            this.delegate = new Http2ServerUpgradeCodec((io.netty.handler.codec.http2.Http2FrameCodec) http2[0],
                    http2[1], http2[2]);
        }

        @Override
        public Collection<CharSequence> requiredUpgradeHeaders() {
            return delegate.requiredUpgradeHeaders();
        }

        @Override
        public boolean prepareUpgradeResponse(ChannelHandlerContext ctx, FullHttpRequest upgradeRequest,
                                              HttpHeaders upgradeHeaders) {
            return delegate.prepareUpgradeResponse(ctx, upgradeRequest, upgradeHeaders);
        }

        @Override
        public void upgradeTo(ChannelHandlerContext ctx, FullHttpRequest upgradeRequest) {
            delegate.upgradeTo(ctx, upgradeRequest);
            removeHttp1Tail(ctx.pipeline());
            deadline.multiplexed();
        }
    }

    /** With TLS: h2 or HTTP/1.1 as ALPN agreed (HTTP/1.1 when the client offered neither). */
    private final class Negotiation extends ApplicationProtocolNegotiationHandler {
        private final ApiConnections.Deadline deadline;

        Negotiation(ApiConnections.Deadline deadline) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.deadline = deadline;
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                switchToHttp2(ctx, deadline);
            } else {
                ChannelPipeline p = ctx.pipeline();
                p.addAfter(ctx.name(), null, http1Codec());
                addHttp1Tail(p, deadline);
            }
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            // A client that does not speak TLS, or does not trust the certificate: its business, one debug line.
            log.debug("API TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
