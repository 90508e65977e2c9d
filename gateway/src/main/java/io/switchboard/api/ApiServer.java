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
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend-facing HTTP API on its own port. Its connections are served either on the event loops that serve
 * clients ({@code --api-loop shared}, the default: a push to a client on the same loop as the API connection takes no
 * thread hop, and no extra thread wakes per push) or on one loop of its own ({@code --api-loop own}: a huge batch or
 * a slow {@code /metrics} never delays a client). It reaches the core only through {@link PushService} and
 * {@link AdminService}. Thread-safe.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    /** Largest request body: a batch of pushes may carry many payloads. */
    static final int MAX_BODY_BYTES = ApiSettings.MAX_BODY_MIB * 1024 * 1024;

    private final EventLoopGroup group;
    /** The group is the API's own (shut down with it), not the client loops it was given. */
    private final boolean ownGroup;
    private final Channel channel;
    private final ApiConnections connections;
    private final List<ScheduledFuture<?>> periodic;

    private ApiServer(EventLoopGroup group, boolean ownGroup, Channel channel, ApiConnections connections,
                      List<ScheduledFuture<?>> periodic) {
        this.group = group;
        this.ownGroup = ownGroup;
        this.channel = channel;
        this.connections = connections;
        this.periodic = periodic;
    }

    /**
     * Binds the API and starts sampling the per-second rates and sweeping request deadlines.
     *
     * @param clientLoops the loops that serve clients, to serve the API connections on as well; {@code null}: the
     *                    API gets one loop of its own
     */
    public static ApiServer start(ApiSettings settings, PushService push, AdminService admin, GatewayMetrics metrics,
                                  EventLoopGroup clientLoops) throws InterruptedException {
        return start(settings, push, admin, metrics, System::nanoTime, clientLoops);
    }

    /** On a loop of its own, with the deadlines' clock given (tests). */
    static ApiServer start(ApiSettings settings, PushService push, AdminService admin, GatewayMetrics metrics,
                           LongSupplier monotonicNs) throws InterruptedException {
        return start(settings, push, admin, metrics, monotonicNs, null);
    }

    private static ApiServer start(ApiSettings settings, PushService push, AdminService admin, GatewayMetrics metrics,
                                   LongSupplier monotonicNs, EventLoopGroup clientLoops) throws InterruptedException {
        boolean own = clientLoops == null;
        EventLoopGroup group = own ? settings.transport().newHalfClosingGroup(1, new DefaultThreadFactory("swb-api", true))
                : clientLoops;
        List<ScheduledFuture<?>> periodic = new ArrayList<>();
        try {
            ApiConnections connections = new ApiConnections(settings, metrics, monotonicNs);
            StatsCollector stats = new StatsCollector(metrics, admin, connections);
            // One task for both, on one loop: each periodic task is a wake-up a second of a loop that may be idle.
            periodic.add(group.next().scheduleAtFixedRate(() -> {
                safely("deadline sweep", connections::sweep, metrics);
                safely("rate sampling", stats::sampleRates, metrics);
            }, 1, 1, TimeUnit.SECONDS));
            ApiHandler handler = new ApiHandler(settings, push, admin, metrics, stats);
            int maxBody = Math.max(MAX_BODY_BYTES, settings.maxPayloadBytes() * 2);
            ApiPipeline pipeline = new ApiPipeline(settings, connections, handler, maxBody, metrics);
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
            return new ApiServer(group, own, ch, connections, periodic);
        } catch (Exception | Error e) {
            periodic.forEach(f -> f.cancel(false));
            if (own) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            throw e;
        }
    }

    /**
     * Runs one deadline sweep on the API loop now and waits for it and for the checks it handed to each
     * connection's loop (tests drive the clock instead of sleeping).
     */
    void sweepNow() throws InterruptedException, java.util.concurrent.ExecutionException,
            java.util.concurrent.TimeoutException {
        group.next().submit(connections::sweep).get(10, TimeUnit.SECONDS);
        for (io.netty.util.concurrent.EventExecutor loop : group) {
            loop.submit(() -> { }).get(10, TimeUnit.SECONDS); // runs after what the sweep queued there
        }
    }

    /**
     * Runs one part of the periodic task; a failure is counted and logged, and the other part and the next second
     * run still (a periodic task that throws never runs again).
     */
    private static void safely(String what, Runnable part, GatewayMetrics metrics) {
        try {
            part.run();
        } catch (RuntimeException e) {
            metrics.loopErrors.increment();
            log.warn("API {} failed: {}", what, e.toString());
        }
    }

    /** API connections open now. */
    int openConnections() {
        return connections.open();
    }

    /** API connections not read now because their answers wait to be written (tests). */
    int readingPaused() {
        return connections.readingPaused.get();
    }

    /** Bytes of request bodies held while they arrive (tests). */
    long bodyBytesArriving() {
        return connections.bodies.held();
    }

    /** HTTP/2 streams open now on all API connections. */
    int openStreams() {
        return connections.openStreams();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Stops listening and closes every API connection (on client loops, the loops go on). */
    @Override
    public void close() {
        periodic.forEach(f -> f.cancel(false));
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        // The answers of requests already taken first (a stored push waits for its fsync): as long as a stored push's
        // answer may take (a disk that stalls: 10 s, then 503), and a second more. A connection with nothing left to
        // answer closes at once, so this waits only for those that have. Cut after 3 s, a push the disk wrote a
        // moment later was kept, while its backend, seeing the connection reset, sent it again: a duplicate.
        connections.closeWhenAnswered();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
                io.switchboard.service.PushService.STORE_ANSWER_TIMEOUT_MS + 1_000);
        while (connections.openCount() > 0 && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        connections.closeAll();
        if (ownGroup) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
