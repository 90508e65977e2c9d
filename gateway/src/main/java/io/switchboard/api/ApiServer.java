package io.switchboard.api;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.AdminService;
import io.switchboard.service.PushService;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The backend-facing HTTP API on its own port and its own event loop, so backend traffic never runs on the
 * loops that serve clients. It reaches the core only through {@link PushService} and {@link AdminService}.
 * Thread-safe.
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

    /** Binds the API and starts sampling the per-second rates on its loop. */
    public static ApiServer start(ApiSettings settings, PushService push, AdminService admin, GatewayMetrics metrics)
            throws InterruptedException {
        EventLoopGroup group = settings.transport().newGroup(1, new DefaultThreadFactory("swb-api", true));
        try {
            StatsCollector stats = new StatsCollector(metrics, admin);
            group.next().scheduleAtFixedRate(stats::sampleRates, 1, 1, TimeUnit.SECONDS);
            ApiHandler handler = new ApiHandler(settings, push, admin, metrics, stats);
            int maxBody = Math.max(MAX_BODY_BYTES, settings.maxPayloadBytes() * 2);
            Channel ch = new ServerBootstrap()
                    .group(group)
                    .channel(settings.transport().serverChannelClass())
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
                    .bind(settings.bind(), settings.port()).sync().channel();
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
