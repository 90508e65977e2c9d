package io.switchboard.protocol.mqtt;

import io.netty.channel.Channel;
import io.switchboard.connection.GatewayContext;
import io.switchboard.connection.ProtocolAdapter;
import io.switchboard.connection.ShardContext;

/**
 * MQTT 3.1.1 and 5 over TCP on {@code --bind}:{@code --mqtt-port}: one {@link MqttConnection} per channel, decoding
 * with the stateless codec of {@code protocol-mqtt} from the connection's own buffer (no decoder object per idle
 * connection). Immutable after construction; safe from any thread.
 */
public final class MqttAdapter implements ProtocolAdapter {
    /** Room for the fixed header, topic and properties of a PUBLISH around a payload of --max-payload. */
    static final int PACKET_OVERHEAD_BYTES = 8 * 1024;

    private final ShardContext.PerLoop<MqttAdapter> contexts;
    final int maxPacketBytes;
    /** {@code --mqtt-push-topic} split around {@code {id}}: the topic of a push to a client is prefix + id + suffix. */
    private final String pushTopicPrefix;
    private final String pushTopicSuffix;
    private final String name;
    /**
     * Each client's will waiting out its v5 delay, by client id: one at most, a newer one replaces it, so a client
     * that connects and drops again and again with a long delay holds one payload, not one per drop. One map for
     * MQTT over TCP and over WebSocket: a client may leave over one and come back over the other.
     */
    final java.util.concurrent.ConcurrentHashMap<String, MqttConnection.DelayedWill> delayedWills;

    public MqttAdapter(GatewayContext shared) {
        this(shared, "mqtt", null);
    }

    /**
     * @param name      what its connections' protocol is called in metrics and the API ({@code mqtt}; {@code mqtt-ws}
     *                  for MQTT over WebSocket, whose listener is the WebSocket adapter's)
     * @param willsWith the gateway's other MQTT adapter, whose waiting wills this one shares (null: none)
     */
    public MqttAdapter(GatewayContext shared, String name, MqttAdapter willsWith) {
        this.name = name;
        this.delayedWills = willsWith != null ? willsWith.delayedWills
                : new java.util.concurrent.ConcurrentHashMap<>();
        this.contexts = new ShardContext.PerLoop<>(shared, this);
        this.maxPacketBytes = shared.config().maxPayloadBytes + PACKET_OVERHEAD_BYTES;
        String t = shared.config().mqttPushTopic;
        int at = t.indexOf("{id}");
        this.pushTopicPrefix = at < 0 ? t : t.substring(0, at);
        this.pushTopicSuffix = at < 0 ? "" : t.substring(at + 4);
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
        return contexts.shared().config().mqttPort;
    }

    @Override
    public void initChannel(Channel ch) {
        ch.pipeline().addLast(newConnection(ch));
    }

    /** The handler of a channel registered with its event loop. */
    public MqttConnection newConnection(Channel ch) {
        return new MqttConnection(contexts.of(ch.eventLoop()));
    }

    /** The topic a push to {@code clientId} is published on. */
    String pushTopic(String clientId) {
        return pushTopicPrefix + clientId + pushTopicSuffix;
    }

    /**
     * Whether {@code topic} is some client's push topic: only the backend publishes there (a client's PUBLISH or
     * will on it would reach a subscriber looking like a push). A template of {id} alone names no such topic.
     */
    boolean isPushTopic(String topic) {
        return (!pushTopicPrefix.isEmpty() || !pushTopicSuffix.isEmpty())
                && topic.length() > pushTopicPrefix.length() + pushTopicSuffix.length()
                && topic.startsWith(pushTopicPrefix) && topic.endsWith(pushTopicSuffix);
    }
}
