package io.switchboard.protocol.swb;

import io.switchboard.config.ServerConfig;
import io.switchboard.limits.ConnectionGuard;
import io.switchboard.session.SessionShard;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.config.GatewayServices;
import io.switchboard.session.SessionRegistry;
import io.netty.channel.EventLoop;
import java.util.function.Function;

/**
 * What every SWB/1 connection of one server shares: settings, services, the session registry, admission control,
 * metrics, and each event loop's state. Immutable after start; safe from any thread.
 */
public record SwbContext(ServerConfig config, GatewayServices services, SessionRegistry registry, ConnectionGuard guard,
                         GatewayMetrics metrics, Function<EventLoop, SessionShard> loops,
                         java.util.concurrent.ConcurrentHashMap<SessionShard, SwbLoop> perLoop) {

    public SwbContext(ServerConfig config, GatewayServices services, SessionRegistry registry, ConnectionGuard guard,
                      GatewayMetrics metrics, Function<EventLoop, SessionShard> loops) {
        this(config, services, registry, guard, metrics, loops, new java.util.concurrent.ConcurrentHashMap<>());
    }

    /** The per-loop view for {@code loop}; one instance per loop, cached in a small identity map. */
    SwbLoop loopOf(EventLoop loop) {
        SessionShard s = loops.apply(loop);
        if (s == null) {
            throw new IllegalStateException("channel registered on an event loop the gateway does not own");
        }
        return perLoop.computeIfAbsent(s, l -> new SwbLoop(this, l));
    }
}
