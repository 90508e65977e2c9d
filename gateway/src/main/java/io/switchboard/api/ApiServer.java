package io.switchboard.api;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.AdminService;
import io.switchboard.service.PushService;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

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
    private final ApiConnections connections;

    private ApiServer(EventLoopGroup group, Channel channel, ApiConnections connections) {
        this.group = group;
        this.channel = channel;
        this.connections = connections;
    }

    /** Binds the API and starts sampling the per-second rates and sweeping request deadlines on its loop. */
    public static ApiServer start(ApiSettings settings, PushService push, AdminService admin, GatewayMetrics metrics)
            throws InterruptedException {
        return start(settings, push, admin, metrics, System::nanoTime);
    }

    /** As {@link #start(ApiSettings, PushService, AdminService, GatewayMetrics)} with the deadlines' clock given. */
    static ApiServer start(ApiSettings settings, PushService push, AdminService admin, GatewayMetrics metrics,
                           LongSupplier monotonicNs) throws InterruptedException {
        EventLoopGroup group = settings.transport().newGroup(1, new DefaultThreadFactory("swb-api", true));
        try {
            ApiConnections connections = new ApiConnections(settings, metrics, monotonicNs);
            StatsCollector stats = new StatsCollector(metrics, admin, connections);
            group.next().scheduleAtFixedRate(stats::sampleRates, 1, 1, TimeUnit.SECONDS);
            group.next().scheduleAtFixedRate(connections::sweep, 1, 1, TimeUnit.SECONDS);
            ApiHandler handler = new ApiHandler(settings, push, admin, metrics, stats);
            int maxBody = Math.max(MAX_BODY_BYTES, settings.maxPayloadBytes() * 2);
            ApiPipeline pipeline = new ApiPipeline(settings, connections, handler, maxBody);
            Channel ch = new ServerBootstrap()
                    .group(group)
                    .channel(settings.transport().serverChannelClass())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    // A request followed by a half-close (HTTP/1.0 clients, nc -N) is answered before the close.
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            pipeline.init(c);
                        }
                    })
                    .bind(settings.bind(), settings.port()).sync().channel();
            return new ApiServer(group, ch, connections);
        } catch (Exception | Error e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Runs one deadline sweep on the API loop now and waits for it (tests drive the clock instead of sleeping). */
    void sweepNow() throws InterruptedException, java.util.concurrent.ExecutionException,
            java.util.concurrent.TimeoutException {
        group.next().submit(connections::sweep).get(10, TimeUnit.SECONDS);
    }

    /** API connections open now. */
    int openConnections() {
        return connections.open();
    }

    /** HTTP/2 streams open now on all API connections. */
    int openStreams() {
        return connections.openStreams();
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
