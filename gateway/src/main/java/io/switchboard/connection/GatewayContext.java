package io.switchboard.connection;

import io.netty.channel.EventLoop;
import io.switchboard.config.GatewayServices;
import io.switchboard.config.ServerConfig;
import io.switchboard.limits.ConnectionGuard;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.session.SessionRegistry;
import io.switchboard.session.SessionShard;
import java.util.function.Function;

/**
 * What every client connection of one gateway shares, whatever its protocol: settings, services, the session
 * registry, admission control, metrics, and the session shard of each event loop. Immutable after start; safe from
 * any thread.
 */
public record GatewayContext(ServerConfig config, GatewayServices services, SessionRegistry registry,
                             ConnectionGuard guard, GatewayMetrics metrics, Function<EventLoop, SessionShard> shards) {

    /** The shard of {@code loop}; fails for a loop the gateway does not own. */
    public SessionShard shardOf(EventLoop loop) {
        SessionShard s = shards.apply(loop);
        if (s == null) {
            throw new IllegalStateException("channel registered on an event loop the gateway does not own");
        }
        return s;
    }
}
