package io.switchboard.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.switchboard.limits.ConnectionGuard;
import io.switchboard.transport.LocalAddressSharing;
import io.switchboard.transport.Transport;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code switchboard proxy}: a TCP forwarder. Accepted connections are forwarded to one of the upstreams, both
 * sockets on the accepting event loop (see {@link Link}). {@link #start} binds; {@link #drain} stops accepting and
 * lets connections finish up to the drain timeout; {@link #close} stops at once. Thread-safe.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    final ProxyConfig config;
    final ProxyMetrics metrics = new ProxyMetrics();
    final Balancer balancer;
    final ConnectionGuard guard;
    final OutboundSockets outbound;
    private final EventLoopGroup group;
    private final List<ProxyLoop> loops;
    private final Channel listener;
    private final HealthChecker health;
    private final MetricsEndpoint metricsEndpoint;
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean draining;

    private ProxyServer(ProxyConfig config) throws InterruptedException {
        this.config = config;
        config.transport.ensureAvailable();
        this.balancer = new Balancer(config.upstreams, config.balance);
        this.guard = new ConnectionGuard(config.maxConnections, config.maxConnectionsPerIp, 0, config.clock);
        this.outbound = new OutboundSockets(config, metrics);
        this.group = config.transport.newGroup(config.eventLoops, new DefaultThreadFactory("swb-proxy", true));
        List<ProxyLoop> list = new ArrayList<>();
        Map<EventLoop, ProxyLoop> byLoop = new IdentityHashMap<>();
        long nowMs = config.clock.nowMs();
        for (EventExecutor e : group) {
            ProxyLoop pl = new ProxyLoop(list.size(), (EventLoop) e, this, nowMs);
            list.add(pl);
            byLoop.put(pl.loop, pl);
        }
        this.loops = List.copyOf(list);
        for (ProxyLoop pl : loops) {
            pl.loop.scheduleAtFixedRate(() -> tickSafely(pl), 1, 1, TimeUnit.SECONDS);
        }
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(config.transport.serverChannelClass())
                    .option(ChannelOption.SO_BACKLOG, config.backlog)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, config.tcpKeepalive)
                    .childOption(ChannelOption.RECVBUF_ALLOCATOR, OutboundSockets.READ_ALLOCATOR)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, OutboundSockets.ONE_CHUNK)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            LocalAddressSharing.share(ch);
                            if (config.acceptProxy) {
                                ch.pipeline().addLast(new HAProxyMessageDecoder());
                            }
                            ch.pipeline().addLast(new Link(byLoop.get(ch.eventLoop()), ch));
                        }
                    });
            config.transport.configureListener(b, config.reusePort, new Transport.Keepalive(config.tcpKeepalive,
                    config.tcpKeepIdleSec, config.tcpKeepIntervalSec, config.tcpKeepCount), 0);
            this.listener = b.bind(config.listen).sync().channel();
            this.health = config.healthIntervalSec > 0 ? new HealthChecker(this, loops.get(0).loop) : null;
            this.metricsEndpoint = config.metricsPort >= 0 ? MetricsEndpoint.start(this) : null;
        } catch (Exception | Error e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Validates {@code config}, binds the listener (and metrics endpoint) and starts the loops. */
    public static ProxyServer start(ProxyConfig config) throws InterruptedException {
        return new ProxyServer(config.validate());
    }

    private void tickSafely(ProxyLoop pl) {
        try {
            pl.tick(config.clock.nowMs());
        } catch (RuntimeException e) {
            metrics.loopErrors.increment();
            log.warn("sweep failed on loop {}: {}", pl.index, e.toString());
        }
    }

    // ---- accessors

    public ProxyConfig config() {
        return config;
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    public List<Upstream> upstreams() {
        return balancer.upstreams();
    }

    /** The bound listening port (the chosen one when configured as 0). */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** The metrics endpoint's port, or -1 when off. */
    public int metricsPort() {
        return metricsEndpoint == null ? -1 : metricsEndpoint.port();
    }

    public boolean draining() {
        return draining;
    }

    /** Completes when a drain has finished and the proxy stopped. */
    public CompletableFuture<Void> drained() {
        return drained;
    }

    /** Whether IP_LOCAL_PORT_RANGE is being applied (false when off or rejected by the kernel). */
    public boolean portRangeApplied() {
        return outbound.portRangeEnabled();
    }

    String prometheus() {
        return metrics.prometheus(balancer.upstreams(), config.clock.nowMs(), draining, config.maxConnections);
    }

    /** Runs one sweep on every loop now and waits for it: tests drive idle deadlines with a manual clock. */
    public void tickNow() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(loops.size());
        for (ProxyLoop pl : loops) {
            pl.loop.execute(() -> {
                tickSafely(pl);
                done.countDown();
            });
        }
        if (!done.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("event loops did not run the sweep within 10 s");
        }
    }

    /** Runs one active health check of every upstream now and waits for the results (tests). */
    public void checkUpstreamsNow() throws InterruptedException {
        if (health == null) {
            throw new IllegalStateException("--health-interval is off");
        }
        health.checkNowAndWait();
    }

    /** Connections open on all loops, counted on the loops themselves. */
    public long connections() throws InterruptedException {
        return sumOverLoops(ProxyLoop::size);
    }

    /** Bytes read from one side and not yet handed to the kernel on the other, over all connections (tests). */
    public long queuedBytes() throws InterruptedException {
        return sumOverLoops(pl -> pl.queuedBytes());
    }

    private long sumOverLoops(ToLongFunction<ProxyLoop> f) throws InterruptedException {
        AtomicLong sum = new AtomicLong();
        CountDownLatch done = new CountDownLatch(loops.size());
        for (ProxyLoop pl : loops) {
            pl.loop.execute(() -> {
                sum.addAndGet(f.applyAsLong(pl));
                done.countDown();
            });
        }
        if (!done.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("event loops did not answer within 10 s");
        }
        return sum.get();
    }

    // ---- drain and close

    /**
     * Stops accepting; open connections keep forwarding until they end or {@code --drain-timeout} passes, then the
     * rest are closed and the proxy stops. Idempotent; returns {@link #drained()}.
     */
    public CompletableFuture<Void> drain() {
        synchronized (this) {
            if (draining) {
                return drained;
            }
            draining = true;
        }
        log.info("draining: no new connections; waiting up to {} s for {} open ones", config.drainTimeoutSec,
                metrics.active.get());
        listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        Thread waiter = new Thread(this::awaitDrain, "swb-proxy-drain");
        waiter.setDaemon(true);
        waiter.start();
        return drained;
    }

    private void awaitDrain() {
        long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(config.drainTimeoutSec);
        try {
            while (metrics.active.get() > 0 && System.nanoTime() - deadlineNs < 0) {
                Thread.sleep(50); // polling a counter on a bounded wait; connections end on their own meanwhile
            }
            long left = metrics.active.get();
            if (left > 0) {
                metrics.drainClosed.add(left);
                log.info("drain timeout: closing {} connections", left);
                CountDownLatch done = new CountDownLatch(loops.size());
                for (ProxyLoop pl : loops) {
                    pl.loop.execute(() -> {
                        pl.closeAll();
                        done.countDown();
                    });
                }
                done.await(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
            drained.complete(null);
        }
    }

    /** Stops at once: the listener, the metrics endpoint, health checks and every connection. */
    @Override
    public void close() {
        listener.close();
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
        Future<?> f = group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        f.awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
