package io.switchboard.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active TCP checks: every {@code --health-interval} seconds, one connect to each upstream from one event loop; a
 * failed connect marks the upstream down until a later check connects, a successful one marks it up (also ending
 * a passive mark). State changes are logged once each. Runs on its event loop only.
 */
final class HealthChecker {
    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private final ProxyServer server;
    private final EventLoop loop;

    HealthChecker(ProxyServer server, EventLoop loop) {
        this.server = server;
        this.loop = loop;
        int every = server.config.healthIntervalSec;
        loop.scheduleAtFixedRate(() -> checkAll(null), every, every, TimeUnit.SECONDS);
    }

    void checkNowAndWait() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(server.balancer.size());
        loop.execute(() -> checkAll(done));
        if (!done.await(server.config.connectTimeoutMs + 10_000L, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("health checks did not finish");
        }
    }

    private void checkAll(CountDownLatch done) {
        for (Upstream u : server.balancer.upstreams()) {
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
        ChannelFuture registered = server.outbound.openForCheck(loop);
        Channel ch = registered.channel();
        registered.addListener(r -> {
            if (!r.isSuccess()) {
                finish(u, ch, false, r.cause(), done);
                return;
            }
            ch.connect(u.address).addListener(c -> finish(u, ch, c.isSuccess(), c.cause(), done));
        });
    }

    private void finish(Upstream u, Channel ch, boolean ok, Throwable cause, CountDownLatch done) {
        ch.close();
        if (u.checked(ok)) {
            if (ok) {
                log.info("upstream {} is up (health check connected)", u.label());
            } else {
                server.metrics.upstreamMarkedDown.increment();
                log.warn("upstream {} is down (health check: {})", u.label(),
                        ConnectError.classify(cause).label());
            }
        }
        if (done != null) {
            done.countDown();
        }
    }
}
