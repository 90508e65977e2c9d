package io.switchboard.api;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A test client that speaks HTTP/2 with prior knowledge (no upgrade, as {@code curl --http2-prior-knowledge}): one
 * connection, a stream per request. Answers are completed futures; a stream reset or closed without an answer fails
 * its future.
 */
public final class H2TestClient implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;

    public H2TestClient(int port) throws InterruptedException {
        this(port, -1);
    }

    /**
     * A client granting the server a flow-control window of {@code initialWindow} bytes per stream (-1: HTTP/2's
     * default), and never more: with 0, no answer's body can be sent to it.
     */
    public H2TestClient(int port, int initialWindow) throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        Http2FrameCodecBuilder codec = Http2FrameCodecBuilder.forClient();
                        if (initialWindow >= 0) {
                            codec.initialSettings(io.netty.handler.codec.http2.Http2Settings.defaultSettings()
                                    .initialWindowSize(initialWindow));
                        }
                        ch.pipeline().addLast(codec.build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                }).connect("127.0.0.1", port).sync().channel();
    }

    /** Sends one request with a body (null: none) on a new stream. */
    public CompletableFuture<FullHttpResponse> send(String method, String path, String body) {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), path,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        req.headers().set(HttpHeaderNames.HOST, "127.0.0.1");
        req.headers().set("x-http2-scheme", "http");
        CompletableFuture<FullHttpResponse> answer = new CompletableFuture<>();
        stream(answer).addListener(f -> {
            if (!f.isSuccess()) {
                answer.completeExceptionally(f.cause());
                return;
            }
            ((Http2StreamChannel) f.getNow()).writeAndFlush(req);
        });
        return answer;
    }

    /**
     * Opens a stream declaring a body of {@code contentLength} bytes and sends {@code part} of it, never ending it;
     * {@code reset} gets the error code of the server's RST_STREAM, should one come.
     */
    public CompletableFuture<FullHttpResponse> sendUnfinished(String path, long contentLength, byte[] part,
                                                              CompletableFuture<Long> reset) {
        CompletableFuture<FullHttpResponse> answer = new CompletableFuture<>();
        stream(answer, reset).addListener(f -> {
            if (!f.isSuccess()) {
                answer.completeExceptionally(f.cause());
                return;
            }
            DefaultHttp2Headers h = new DefaultHttp2Headers();
            h.method("POST").path(path).scheme("http").authority("127.0.0.1");
            h.setLong("content-length", contentLength);
            Http2StreamChannel ch = (Http2StreamChannel) f.getNow();
            ch.write(new DefaultHttp2HeadersFrame(h, false));
            ch.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2DataFrame(Unpooled.wrappedBuffer(part), false));
        });
        return answer;
    }

    private io.netty.util.concurrent.Future<Http2StreamChannel> stream(CompletableFuture<FullHttpResponse> answer) {
        return stream(answer, new CompletableFuture<>());
    }

    private io.netty.util.concurrent.Future<Http2StreamChannel> stream(CompletableFuture<FullHttpResponse> answer,
                                                                       CompletableFuture<Long> reset) {
        return new Http2StreamChannelBootstrap(channel).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                        new HttpObjectAggregator(1 << 20), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof FullHttpResponse res) {
                                    if (!answer.complete(res.retain())) {
                                        res.release();
                                    }
                                    res.release();
                                }
                            }

                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                                if (event instanceof io.netty.handler.codec.http2.Http2ResetFrame r) {
                                    reset.complete(r.errorCode());
                                }
                                ctx.fireUserEventTriggered(event);
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                answer.completeExceptionally(new IllegalStateException("stream closed unanswered"));
                            }
                        });
            }
        }).open();
    }

    /** Shuts the connection's output down (a half-close: no more requests) and waits for it. */
    public void shutdownOutput() throws InterruptedException {
        ((SocketChannel) channel).shutdownOutput().sync();
    }

    /** The connection is still open. */
    public boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void close() {
        channel.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
