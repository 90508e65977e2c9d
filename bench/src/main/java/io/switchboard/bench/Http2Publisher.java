package io.switchboard.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.switchboard.transport.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Switchboard's API over HTTP/2 with prior knowledge ({@code --publish-via http2}): every push one stream on one
 * connection ({@code POST /v1/clients/<id>/messages}), as many in flight as the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS allows (beyond, Netty's encoder buffers them). Frames go straight through Netty's
 * frame codec on one event loop of its own; an answer other than 200, or a reset stream, counts as a failed push.
 */
final class Http2Publisher implements Publisher {
    private static final AsciiString POST = AsciiString.cached("POST");
    private static final AsciiString HTTP = AsciiString.cached("http");

    private final EventLoopGroup group;
    private final Channel channel;
    private final Answers answers;
    private final AsciiString authority;
    private final AsciiString authorization;

    private Http2Publisher(EventLoopGroup group, Channel channel, Answers answers, InetSocketAddress target,
                           String apiToken) {
        this.group = group;
        this.channel = channel;
        this.answers = answers;
        this.authority = new AsciiString(target.getHostString() + ":" + target.getPort());
        this.authorization = apiToken == null ? null : new AsciiString("Bearer " + apiToken);
    }

    /** Connects to the API at {@code target}; answers other than 200 are counted in {@code stats}. */
    static Http2Publisher connect(InetSocketAddress target, String apiToken, BenchStats stats, Transport transport)
            throws IOException {
        EventLoopGroup group = transport.newGroup(1, new DefaultThreadFactory("bench-http2", true));
        Http2FrameCodec codec = Http2FrameCodecBuilder.forClient().encoderEnforceMaxConcurrentStreams(true).build();
        Answers answers = new Answers(stats);
        try {
            Channel ch = new Bootstrap().group(group).channel(transport.socketChannelClass())
                    .option(io.netty.channel.ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(codec, answers);
                        }
                    }).connect(target).sync().channel();
            return new Http2Publisher(group, ch, answers, target, apiToken);
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("cannot open HTTP/2 to " + target + ": " + e, e);
        }
    }

    @Override
    public void publish(String clientId, String payload) throws IOException {
        post("/v1/clients/" + clientId + "/messages", payload);
    }

    @Override
    public void broadcast(String payload) throws IOException {
        post("/v1/broadcast", payload);
    }

    /** Posts {@code payload} to {@code path} as a new stream. */
    private void post(String path, String payload) throws IOException {
        if (!channel.isActive()) {
            throw new IOException("HTTP/2 connection closed");
        }
        Http2Headers h = new DefaultHttp2Headers().method(POST).scheme(HTTP).authority(authority).path(path);
        if (authorization != null) {
            h.set("authorization", authorization);
        }
        byte[] body = payload.getBytes(StandardCharsets.US_ASCII);
        channel.eventLoop().execute(() -> {
            Http2FrameStream stream = answers.newStream();
            channel.write(new DefaultHttp2HeadersFrame(h, false).stream(stream), channel.voidPromise());
            channel.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true).stream(stream),
                    channel.voidPromise());
        });
    }

    @Override
    public void close() {
        channel.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Reads the answers: their status, and the flow-control credit of any body not ending its stream. */
    private static final class Answers extends Http2ChannelDuplexHandler {
        private final BenchStats stats;

        Answers(BenchStats stats) {
            this.stats = stats;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h && h.headers().status() != null
                        && !AsciiString.contentEquals("200", h.headers().status())) {
                    stats.pushesFailed.increment();
                    stats.error("push: HTTP " + h.headers().status());
                } else if (msg instanceof Http2ResetFrame) {
                    stats.pushesFailed.increment();
                    stats.error("push: HTTP/2 stream reset");
                } else if (msg instanceof Http2DataFrame d && !d.isEndStream() && d.initialFlowControlledBytes() > 0) {
                    ctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(d.stream()));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            stats.error("push: HTTP/2 connection: " + cause.getClass().getSimpleName());
            ctx.close();
        }
    }
}
