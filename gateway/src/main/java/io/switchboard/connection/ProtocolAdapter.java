package io.switchboard.connection;

import io.netty.channel.Channel;

/**
 * One wire protocol the gateway speaks to clients (SWB/1 over TCP today; MQTT and WebSocket plug in the same way):
 * where it listens and how a new connection's pipeline is set up. Its connections extend {@link ClientConnection},
 * which owns their lifecycle, and map frames onto the session core. Immutable after start; safe from any thread.
 */
public interface ProtocolAdapter {
    /** Short name for logs and metrics ({@code swb}). */
    String name();

    /** The address clients connect to. */
    String bind();

    /** The port clients connect to (0: any free one). */
    int port();

    /**
     * Adds this protocol's handlers to a new connection's pipeline; the channel is registered with its event loop,
     * and a PROXY-header decoder may already stand in front (with {@code --accept-proxy}).
     */
    void initChannel(Channel ch);
}
