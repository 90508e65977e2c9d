package io.switchboard.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active TCP checks of one route's upstreams: every {@code --health-interval} seconds, one connect to each
 * upstream from one event loop (and from the configured source addresses); a failed connect marks the upstream
 * down until a later check connects, a successful one marks it up (also ending a passive mark). State changes are
 * logged once each. Runs on its event loop only; {@link #stop} when a reload replaces the route.
 */
final class HealthChecker {
    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private final ProxyServer server;
    private final ProxyLoop loop;
    private final Route route;
    private final ScheduledFuture<?> schedule;

    HealthChecker(ProxyServer server, ProxyLoop loop, Route route) {
        this.server = server;
        this.loop = loop;
        this.route = route;
        int every = route.config.healthIntervalSec;
        this.schedule = loop.loop.scheduleAtFixedRate(() -> checkAll(null), every, every, TimeUnit.SECONDS);
    }

    void stop() {
        stop(null);
    }

    /**
     * Stops, then runs {@code then} (null: nothing), on the checker's loop: every check finishes there, so none
     * marks an upstream after it (a reload clearing the marks in {@code then} must not see one set again).
     */
    void stop(Runnable then) {
        Runnable stop = () -> {
            stopped = true;
            schedule.cancel(false);
            if (then != null) {
                then.run();
            }
        };
        if (loop.loop.inEventLoop()) {
            stop.run();
            return;
        }
        try {
            loop.loop.execute(stop);
        } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
            stop.run(); // the loop runs no check any more
        }
    }

    /** Set by {@link #stop}: a check still in flight then marks nothing (a reload may have cleared its marks). */
    private volatile boolean stopped;

    void checkNowAndWait() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(route.balancer.size());
        loop.loop.execute(() -> checkAll(done));
        if (!done.await(route.config.connectTimeoutMs + 10_000L, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("health checks did not finish");
        }
    }

    private void checkAll(CountDownLatch done) {
        for (Upstream u : route.balancer.upstreams()) {
            try {
                check(u, done);
            } catch (RuntimeException e) {
                server.metrics.loopErrors.increment();
                log.warn("health check of {} could not start: {}", u.label(), e.toString());
                if (done != null) {
                    done.countDown();
                }
            }
        }
    }

    private void check(Upstream u, CountDownLatch done) {
        OutboundSockets out = server.outbound;
        ChannelFuture registered = out.openForCheck(loop.loop, route.config.connectTimeoutMs);
        Channel ch = registered.channel();
        registered.addListener(r -> {
            if (!r.isSuccess()) {
                finish(u, ch, false, r.cause(), done);
                return;
            }
            ch.connect(u.address, out.nextSource(loop, u.address))
                    .addListener(c -> finish(u, ch, c.isSuccess(), c.cause(), done));
        });
    }

    private void finish(Upstream u, Channel ch, boolean ok, Throwable cause, CountDownLatch done) {
        ch.close();
        // This side out of source ports says nothing of the upstream (as for client connections): no verdict, or
        // a port shortage would mark upstreams down one after another and pile the traffic on the rest.
        if (!stopped && (ok || ConnectError.classify(cause).blamesUpstream()) && u.checked(ok)) {
            if (ok) {
                log.info("upstream {} of {} is up (health check connected)", u.label(), route.name());
            } else {
                server.metrics.upstreamMarkedDown.increment();
                log.warn("upstream {} of {} is down (health check: {})", u.label(), route.name(),
                        ConnectError.classify(cause).label());
            }
        }
        if (done != null) {
            done.countDown();
        }
    }
}
