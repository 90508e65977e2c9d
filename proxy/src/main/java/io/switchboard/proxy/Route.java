package io.switchboard.proxy;

import io.netty.handler.ssl.SslContext;
import java.util.List;

/**
 * A route as it runs: its settings, its upstreams, its TLS context and its health checks. Built at start and by
 * each reload; a connection keeps the route it was accepted under, so a reload never changes a connection that is
 * already being set up or forwarded. Immutable except for the health checker, started and stopped by the server.
 */
final class Route {
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

    String name() {
        return listener.name;
    }

    /** The idle timeout in force: the listener's current route, so a reload applies to open connections too. */
    int idleTimeoutSec() {
        return listener.route.config.idleTimeoutSec;
    }
}
