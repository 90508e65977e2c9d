package io.switchboard.protocol.swb;

import io.netty.channel.Channel;
import io.switchboard.connection.GatewayContext;
import io.switchboard.connection.ProtocolAdapter;
import io.switchboard.connection.ShardContext;
import io.switchboard.swb.SwbClientFrameParser;

/**
 * SWB/1 over TCP on {@code --bind}:{@code --port}: one {@link SwbConnection} per channel, all sharing one parser
 * (it keeps no per-connection state). Immutable after construction; safe from any thread.
 */
public final class SwbAdapter implements ProtocolAdapter {
    final SwbClientFrameParser parser;
    private final ShardContext.PerLoop<SwbAdapter> contexts;
    private final String name;

    public SwbAdapter(GatewayContext shared) {
        this(shared, "swb");
    }

    /**
     * @param name what its connections' protocol is called in metrics and the API ({@code swb}; {@code swb-ws} for
     *             SWB/1 over WebSocket, whose listener is the WebSocket adapter's)
     */
    public SwbAdapter(GatewayContext shared, String name) {
        this.name = name;
        this.parser = new SwbClientFrameParser(shared.config().maxLineBytes, shared.config().maxPayloadBytes);
        this.contexts = new ShardContext.PerLoop<>(shared, this);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String bind() {
        return contexts.shared().config().bind;
    }

    @Override
    public int port() {
        return contexts.shared().config().port;
    }

    @Override
    public void initChannel(Channel ch) {
        ch.pipeline().addLast(newConnection(ch));
    }

    /** The handler of a channel registered with its event loop. */
    public SwbConnection newConnection(Channel ch) {
        return new SwbConnection(contexts.of(ch.eventLoop()));
    }
}
