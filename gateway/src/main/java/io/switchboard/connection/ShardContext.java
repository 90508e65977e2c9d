package io.switchboard.connection;

import io.netty.channel.EventLoop;
import io.switchboard.session.SessionShard;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a connection needs to reach, as one reference: the gateway's shared context, its own loop's session shard and
 * its protocol adapter. One per adapter and event loop, shared by all their connections (one field per connection
 * instead of three). Immutable; safe from any thread.
 *
 * @param <A> the protocol adapter (its shared, immutable parts: parser, encoder, settings)
 */
public final class ShardContext<A extends ProtocolAdapter> {
    public final GatewayContext shared;
    public final SessionShard shard;
    public final A adapter;

    private ShardContext(GatewayContext shared, SessionShard shard, A adapter) {
        this.shared = shared;
        this.shard = shard;
        this.adapter = adapter;
    }

    /** The contexts of one adapter, one per event loop, made on first use. Thread-safe. */
    public static final class PerLoop<A extends ProtocolAdapter> {
        private final GatewayContext shared;
        private final A adapter;
        private final ConcurrentHashMap<SessionShard, ShardContext<A>> byShard = new ConcurrentHashMap<>();

        public PerLoop(GatewayContext shared, A adapter) {
            this.shared = shared;
            this.adapter = adapter;
        }

        /** The context for a channel registered on {@code loop}. */
        public ShardContext<A> of(EventLoop loop) {
            return byShard.computeIfAbsent(shared.shardOf(loop), s -> new ShardContext<>(shared, s, adapter));
        }

        public GatewayContext shared() {
            return shared;
        }
    }
}
