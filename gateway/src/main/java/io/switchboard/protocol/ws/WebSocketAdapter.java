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
    /**
     * A path clients may open: the subprotocols it answers to, and the connection it starts on a channel. A browser
     * refuses a 101 that names none of the subprotocols it offered, so every name a client library offers for the
     * protocol is answered: {@code mqtt} (3.1.1 and 5) and {@code mqttv3.1} (MQTT.js and Paho in 3.1 mode). Text
     * messages are taken where the protocol is text (SWB/1), checked to be UTF-8; MQTT comes in binary ones only.
     */
    record Route(List<String> subprotocols, boolean takesText, Function<Channel, ChannelHandler> connection) {
        /** The first of the client's {@code offered} subprotocols (in its order of preference) this route answers to. */
        String chosen(List<String> offered) {
            for (String s : offered) {
                if (subprotocols.contains(s)) {
                    return s;
                }
            }
            return null;
        }
    }

    private final GatewayContext shared;
    private final Route swb;
    private final Route mqtt;

    public WebSocketAdapter(GatewayContext shared) {
        this(shared, null);
    }

    /** @param mqttOverTcp the gateway's MQTT listener, whose waiting wills MQTT over WebSocket shares (null: none) */
    public WebSocketAdapter(GatewayContext shared, MqttAdapter mqttOverTcp) {
        this.shared = shared;
        SwbAdapter swbAdapter = new SwbAdapter(shared, "swb-ws");
        MqttAdapter mqttAdapter = new MqttAdapter(shared, "mqtt-ws", mqttOverTcp);
        this.swb = new Route(List.of("swb"), true, swbAdapter::newConnection);
        this.mqtt = new Route(List.of("mqtt", "mqttv3.1"), false, mqttAdapter::newConnection);
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
