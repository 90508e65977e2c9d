package io.switchboard.proxy;

import io.netty.handler.ssl.SslContext;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A route as it runs: its settings, its upstreams, its TLS context and its health checks. Built at start and by
 * each reload; a connection keeps the route it was accepted under, so a reload never changes a connection that is
 * already being set up or forwarded. Immutable except for the health checker, started and stopped by the server.
 */
final class Route {
    /** The forwarded connection's log (this line was logged by {@link Link} before and keeps its name). */
    private static final Logger log = LoggerFactory.getLogger(Link.class);

    final RouteConfig config;
    final ProxyListener listener;
    final Balancer balancer;
    /** Null when the listener is plain TCP. */
    final SslContext ssl;
    HealthChecker health;

    /** Builds the route; {@code previous} is the listener's route before a reload (its upstreams are kept). */
    Route(RouteConfig config, ProxyListener listener, Route previous) {
        this.config = config;
        this.listener = listener;
        this.balancer = new Balancer(config.upstreams, config.balance,
                previous == null ? List.of() : previous.balancer.upstreams());
        this.ssl = config.tls() ? Tls.serverContext(config) : null;
    }

    /**
     * Without active checks (any more, after a reload): an upstream an earlier check failed would otherwise stay
     * down for good. Called once the route is committed and the old checker stopped.
     */
    void clearChecksIfUnchecked() {
        if (config.healthIntervalSec == 0) {
            for (Upstream u : balancer.upstreams()) {
                u.clearCheck();
            }
        }
    }

    String name() {
        return listener.name;
    }

    /** The idle timeout in force: the listener's current route, so a reload applies to open connections too. */
    int idleTimeoutSec() {
        return listener.route.config.idleTimeoutSec;
    }

    /**
     * Passive health: a connect to {@code u} failed for {@code kind}; after {@code --max-fails} such failures the
     * upstream is marked down for {@code --fail-timeout} (counted and logged as it happens). On a connection's event loop.
     */
    void connectFailed(Upstream u, ConnectError kind, Throwable cause, long nowMs, ProxyMetrics metrics) {
        if (kind.blamesUpstream() && u.failed(nowMs, config.maxFails, config.failTimeoutSec * 1000L)) {
            metrics.upstreamMarkedDown.increment();
            log.warn("upstream {} of {} marked down for {} s: connect {} ({})", u.label(), name(),
                    config.failTimeoutSec, kind.label(), cause.getMessage());
        }
    }
}
