package io.switchboard.cluster.redis;

import io.switchboard.clock.Clock;
import io.switchboard.cluster.ClusterProvider;
import io.switchboard.config.ServerConfig;
import io.switchboard.metrics.GatewayMetrics;

/** The cluster on Redis, as {@code --cluster redis://...} finds it ({@link java.util.ServiceLoader}). */
public final class RedisClusterProvider implements ClusterProvider {
    @Override
    public Cluster open(ServerConfig config, GatewayMetrics metrics, Clock clock,
                        io.netty.channel.EventLoopGroup loops) {
        return RedisCluster.open(config, metrics, clock, loops);
    }
}
