package io.switchboard.api;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.switchboard.config.ServerConfig;
import io.switchboard.server.GatewayServer;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The backend-facing HTTP API on its own port and its own event loop, so backend traffic never runs on the
 * loops that serve clients. Thread-safe.
 */
public final class ApiServer implements AutoCloseable {
    /** Largest request body: a batch of pushes may carry many payloads. */
    static final int MAX_BODY_BYTES = 64 * 1024 * 1024;

    private final EventLoopGroup group;
    private final Channel channel;

    private ApiServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    public static ApiServer start(ServerConfig config, GatewayServer gateway) throws InterruptedException {
        EventLoopGroup group = config.transport.newGroup(1, new DefaultThreadFactory("swb-api", true));
        try {
            ApiHandler handler = new ApiHandler(gateway, group.next());
            int maxBody = Math.max(MAX_BODY_BYTES, config.maxPayloadBytes * 2);
            Channel ch = new ServerBootstrap()
                    .group(group)
                    .channel(config.transport.serverChannelClass())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            // Answers go out in request order even when they complete on session loops
                            // (see Exchange).
                            c.pipeline().addLast(new HttpServerCodec(), new JsonObjectAggregator(maxBody), handler);
                        }
                    })
                    .bind(config.apiBind, config.apiPort).sync().channel();
            return new ApiServer(group, ch);
        } catch (Exception | Error e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
