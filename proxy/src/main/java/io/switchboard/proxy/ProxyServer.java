package io.switchboard.proxy;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.switchboard.limits.AddressRate;
import io.switchboard.limits.ConnectionGuard;
import io.switchboard.loop.LoopTasks;
import io.switchboard.process.DrainWaiter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * {@code switchboard proxy}: a TCP forwarder with one or more listeners, each with its route. Accepted connections
 * are forwarded to one of the route's upstreams, both sockets on the accepting event loop (see {@link Link}).
 * {@link #start} binds (through {@link ListenerBinder}); {@link #reload} applies a new configuration without dropping
 * connections (see {@link Reload}); {@link #drain} stops accepting and lets connections finish up to the drain
 * timeout; {@link #close} stops at once. Thread-safe.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    /** The configuration in force; replaced by {@link #reload}. */
    volatile ProxyConfig config;
    final ProxyMetrics metrics = new ProxyMetrics();
    final ConnectionGuard guard;
    final AddressRate rate;
    /** Opens upstream sockets with the current source settings; replaced by {@link #reload}. */
    volatile OutboundSockets outbound;
    private final EventLoopGroup group;
    private final List<ProxyLoop> loops;
    final ListenerBinder binder;
    /** Listeners by name (their configured address), in configuration order; guarded by {@code this}. */
    final Map<String, ProxyListener> listeners = new LinkedHashMap<>();
    private final MetricsEndpoint metricsEndpoint;
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean draining;

    private ProxyServer(ProxyConfig config) throws InterruptedException {
        this.config = config;
        config.transport.ensureAvailable();
        this.guard = new ConnectionGuard(config.connectionLimit(), config.maxConnectionsPerIp, 0, config.clock);
        this.rate = new AddressRate(config.ratePerIp);
        this.outbound = new OutboundSockets(config, metrics);
        outbound.publish();
        this.group = config.transport.newHalfClosingGroup(config.eventLoops,
                new DefaultThreadFactory("swb-proxy", true));
        List<ProxyLoop> list = new ArrayList<>();
        for (EventExecutor e : group) {
            list.add(new ProxyLoop(list.size(), (EventLoop) e, this, config.clock));
        }
        this.loops = List.copyOf(list);
        this.binder = new ListenerBinder(this, group, loops);
        for (ProxyLoop pl : loops) {
            pl.loop.scheduleAtFixedRate(() -> tickSafely(pl), 1, 1, TimeUnit.SECONDS);
        }
        try {
            synchronized (this) {
                for (RouteConfig rc : config.routes) {
                    ProxyListener l = new ProxyListener(rc.name());
                    l.route = new Route(rc, l, null);
                    binder.bind(l, rc);
                    listeners.put(l.name, l);
                    startHealth(l.route);
                }
            }
            this.metricsEndpoint = config.metricsPort >= 0 ? MetricsEndpoint.start(this) : null;
        } catch (Exception | Error e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Validates {@code config}, binds the listeners (and metrics endpoint) and starts the loops. */
    public static ProxyServer start(ProxyConfig config) throws InterruptedException {
        return new ProxyServer(config.validate());
    }

    /** Starts {@code r}'s active health checks when it has them; with this server's monitor held. */
    void startHealth(Route r) {
        if (r.config.healthIntervalSec > 0) {
            r.health = new HealthChecker(this, loops.get(0), r);
        }
    }

    /** Stops {@code r}'s active health checks, if any. */
    static void stopHealth(Route r) {
        if (r.health != null) {
            r.health.stop();
        }
    }

    private void tickSafely(ProxyLoop pl) {
        LoopTasks.survive(() -> {
            pl.tick();
            if (pl.index == 0) {
                rate.sweep(config.clock.nowMs() / 1000);
            }
        }, metrics.loopErrors, log, "sweep", pl.index);
    }

    // ---- reload

    /**
     * Applies {@code next} without dropping a connection: new upstreams, balancing, limits, allow/deny, TLS
     * certificates and source addresses take effect for new connections (the idle timeout for open ones too);
     * listeners that appear are bound, listeners that disappear stop accepting while their connections run on.
     * Settings fixed at start (transport, event loops, SO_REUSEPORT, backlog, keepalive, metrics endpoint) must not
     * change. All or nothing: on any error nothing changes.
     *
     * @return one line saying what changed
     * @throws IllegalArgumentException naming what is wrong; the running configuration stays
     */
    public synchronized String reload(ProxyConfig next) throws InterruptedException {
        try {
            String summary = Reload.apply(this, next);
            metrics.reloads.increment();
            log.info("reloaded: {}", summary);
            return summary;
        } catch (IllegalArgumentException e) {
            metrics.reloadFailures.increment();
            log.warn("reload refused, the previous configuration stays: {}", e.getMessage());
            throw e;
        }
    }

    // ---- accessors

    public ProxyConfig config() {
        return config;
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    /** The upstreams of the first listener's current route. */
    public List<Upstream> upstreams() {
        return firstListener().route.balancer.upstreams();
    }

    /** The current routes, in configuration order. */
    synchronized List<Route> routes() {
        List<Route> out = new ArrayList<>();
        for (ProxyListener l : listeners.values()) {
            out.add(l.route);
        }
        return out;
    }

    /** The bound port of the first listener (the chosen one when configured as 0). */
    public int port() {
        return firstListener().port();
    }

    /** The bound port of the listener configured as {@code name} (ADDR:PORT as in the configuration). */
    public synchronized int port(String name) {
        ProxyListener l = listeners.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no listener " + name + " (have " + listeners.keySet() + ")");
        }
        return l.port();
    }

    private synchronized ProxyListener firstListener() {
        return listeners.values().iterator().next();
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
        ProxyConfig c = config;
        return metrics.prometheus(routes(), c.clock.nowMs(), draining, c.connectionLimit());
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

    /** Runs one active health check of every upstream of the first listener now and waits for it (tests). */
    public void checkUpstreamsNow() throws InterruptedException {
        HealthChecker h = firstListener().route.health;
        if (h == null) {
            throw new IllegalStateException("--health-interval is off");
        }
        h.checkNowAndWait();
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
            log.info("draining: no new connections; waiting up to {} s for {} open ones", config.drainTimeoutSec,
                    metrics.active.get());
            for (ProxyListener l : listeners.values()) {
                l.channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
        DrainWaiter.start("swb-proxy-drain", this::awaitDrain, this::close, drained);
        return drained;
    }

    private void awaitDrain() throws InterruptedException {
        DrainWaiter.pollUntil(() -> metrics.active.get() == 0, TimeUnit.SECONDS.toNanos(config.drainTimeoutSec), 50);
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
    }

    /** Stops at once: the listeners, the metrics endpoint, health checks and every connection. */
    @Override
    public void close() {
        synchronized (this) {
            for (ProxyListener l : listeners.values()) {
                stopHealth(l.route);
                l.channel.close();
            }
        }
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
        Future<?> f = group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        f.awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
