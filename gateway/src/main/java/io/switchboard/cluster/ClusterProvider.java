package io.switchboard.cluster;

import io.switchboard.clock.Clock;
import io.switchboard.config.ServerConfig;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.session.ClientDirectory;
import io.switchboard.session.SessionRegistry;
import io.switchboard.store.MessageStore;
import java.util.ServiceLoader;

/**
 * Makes the cluster {@code --cluster} names (the {@code switchboard-cluster} module, found with
 * {@link ServiceLoader}): the gateway core knows only this seam, never the Redis client behind it.
 */
public interface ClusterProvider {
    /**
     * Connects to the cluster {@code config.cluster} names as node {@code config.nodeName}; throws
     * {@link IllegalStateException} with one line for the operator when it cannot (Redis unreachable, bad password).
     * {@code clock} is the sessions' own (stored messages expire on it); {@code loops}, the gateway's event loops,
     * may carry the cluster's own connections (it is closed before they stop). Called off the loops.
     */
    Cluster open(ServerConfig config, GatewayMetrics metrics, Clock clock, io.netty.channel.EventLoopGroup loops);

    /** The provider on the classpath; one line naming what is missing when there is none. */
    static ClusterProvider load() {
        return ServiceLoader.load(ClusterProvider.class).findFirst().orElseThrow(() -> new IllegalStateException(
                "--cluster needs the cluster module (switchboard-cluster), which this build does not contain"));
    }

    /**
     * One node's membership of a cluster: its shared store and directory. Closed after the client connections
     * closed (their releases are written) and before the loops stop (its connections may be on them).
     */
    interface Cluster extends AutoCloseable {
        /** Where stored messages live (shared by every node). */
        MessageStore store();

        /** Who holds which client. */
        ClientDirectory directory();

        /** Starts taking work from the other nodes for {@code registry}'s clients; once, before clients connect. */
        void start(SessionRegistry registry);

        /**
         * Completes, with one line for the operator, when this process is no longer the node it joined as: another
         * process of the same name took the node over while this one could not hold it (paused, or cut off from the
         * cluster, for too long). The server then drains and exits 1. Never completes otherwise.
         */
        default java.util.concurrent.CompletableFuture<String> replaced() {
            return new java.util.concurrent.CompletableFuture<>();
        }

        /** What the cluster looks like from here, for {@code GET /v1/stats}: a small JSON-ready map. */
        java.util.Map<String, Object> stats();

        /** Leaves the cluster: stops reading, waits a bounded time for what was written, disconnects. */
        @Override
        void close();
    }
}
