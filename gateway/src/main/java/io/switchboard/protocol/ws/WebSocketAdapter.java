package io.switchboard.protocol.ws;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.switchboard.connection.GatewayContext;
import io.switchboard.connection.ProtocolAdapter;
import io.switchboard.protocol.mqtt.MqttAdapter;
import io.switchboard.protocol.swb.SwbAdapter;
import java.util.List;
import java.util.function.Function;

/**
 * WebSocket clients on {@code --bind}:{@code --ws-port}: each channel starts with a {@link WebSocketFraming}, whose
 * upgrade request picks the protocol by path: {@code /swb} is SWB/1 ({@code swb-ws} in metrics and the API),
 * {@code /mqtt} is MQTT with the {@code mqtt} subprotocol ({@code mqtt-ws}). Their connections are the same as over
 * TCP, so every rule of the session core holds alike. Immutable after construction; safe from any thread.
 */
public final class WebSocketAdapter implements ProtocolAdapter {
    /** A path clients may open: the subprotocol it answers to, and the connection it starts on a channel. */
    record Route(String subprotocol, Function<Channel, ChannelHandler> connection) {
    }

    private final GatewayContext shared;
    private final Route swb;
    private final Route mqtt;

    public WebSocketAdapter(GatewayContext shared) {
        this.shared = shared;
        SwbAdapter swbAdapter = new SwbAdapter(shared, "swb-ws");
        MqttAdapter mqttAdapter = new MqttAdapter(shared, "mqtt-ws");
        this.swb = new Route("swb", swbAdapter::newConnection);
        this.mqtt = new Route("mqtt", mqttAdapter::newConnection);
    }

    @Override
    public String name() {
        return "ws";
    }

    @Override
    public String bind() {
        return shared.config().bind;
    }

    @Override
    public int port() {
        return shared.config().wsPort;
    }

    @Override
    public void initChannel(Channel ch) {
        ch.pipeline().addLast(new WebSocketFraming(this));
    }

    /** The route of a request path, or null for none. */
    Route route(String path) {
        return switch (path) {
            case "/swb" -> swb;
            case "/mqtt" -> mqtt;
            default -> null;
        };
    }

    GatewayContext shared() {
        return shared;
    }

    List<String> allowedOrigins() {
        return shared.config().wsAllowedOrigins;
    }

    int maxFrameBytes() {
        return shared.config().wsMaxFrameBytes;
    }

    int handshakeTimeoutSec() {
        return shared.config().handshakeTimeoutSec;
    }
}
