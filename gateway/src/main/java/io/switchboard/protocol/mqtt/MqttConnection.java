package io.switchboard.protocol.mqtt;

import io.netty.buffer.ByteBuf;
import io.switchboard.connection.ClientConnection;
import io.switchboard.connection.ShardContext;
import io.switchboard.metrics.Refusal;
import io.switchboard.mqtt.Connect;
import io.switchboard.mqtt.ConnackProperties;
import io.switchboard.mqtt.Disconnect;
import io.switchboard.mqtt.MqttDecoder;
import io.switchboard.mqtt.MqttEncoder;
import io.switchboard.mqtt.MqttMalformed;
import io.switchboard.mqtt.MqttPacket;
import io.switchboard.mqtt.MqttReasonCodes;
import io.switchboard.mqtt.MqttVersion;
import io.switchboard.mqtt.PingReq;
import io.switchboard.mqtt.PubAck;
import io.switchboard.mqtt.PubRel;
import io.switchboard.mqtt.Publish;
import io.switchboard.mqtt.PublishProperties;
import io.switchboard.mqtt.Subscribe;
import io.switchboard.mqtt.Subscription;
import io.switchboard.mqtt.Unsubscribe;
import io.switchboard.mqtt.UserProperty;
import io.switchboard.mqtt.Will;
import io.switchboard.service.Names;
import io.switchboard.session.Message;
import io.switchboard.session.MessageProperties;
import io.switchboard.session.Session;
import io.switchboard.upstream.UpstreamSink;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The MQTT adapter: one client connection speaking MQTT 3.1.1 or 5, mapped onto the session core. {@code CONNECT}
 * is the hello (client id, the password as the token with {@code --auth jwt}, keep-alive as the heartbeat; clean
 * start drops the session's subscriptions, otherwise they and the unacknowledged messages carry over). A push to the
 * client is a {@code PUBLISH} on its push topic: QoS 1 when it was stored (ttl > 0), acknowledged by {@code PUBACK},
 * which this connection maps onto the core's cumulative acknowledgement; QoS 0 otherwise. {@code SUBSCRIBE} and
 * {@code UNSUBSCRIBE} go to the core's topic index (shared with SWB/1 and the API's topic pushes); a client's
 * {@code PUBLISH} (QoS 0, 1 or 2) reaches the topic's subscribers. Closes say why in MQTT's terms: a CONNACK reason
 * before the session, a v5 DISCONNECT after it (v3.1.1 has none: the connection just closes).
 *
 * <p>Owned by the channel's event loop: every method runs there. Idle, it adds a few fields to
 * {@link ClientConnection}: nothing is allocated per connection unless QoS 1 messages are in flight.
 */
public final class MqttConnection extends ClientConnection<MqttAdapter> {
    private static final int FLAG_CONNACK_SENT = 1;
    private static final int FLAG_CLEAN_START = 2;
    private static final int FLAG_ASSIGNED_ID = 4;
    /** v5: the session expiry granted is not the one asked for (CONNACK says which, even when it is 0). */
    private static final int FLAG_EXPIRY_CHANGED = 8;
    /** The longest will delay honoured (a day): a scheduled will holds its payload until then. */
    private static final long MAX_WILL_DELAY_SEC = 86_400;
    /** Topic aliases a v5 client may set (told in CONNACK): 16 topic strings at most per connection that uses them. */
    static final int TOPIC_ALIAS_MAXIMUM = 16;

    /** Protocol level of the CONNECT (4 = 3.1.1, 5); 0 before it. */
    private byte version;
    private byte flags;
    /** The keep-alive the client asked for, to tell it in CONNACK when the server chose another. */
    private char keepAliveRequested;
    /** v5 receive maximum: QoS 1 messages the client takes unacknowledged; 0 = no limit of its own. */
    private char receiveMaximum;
    /** QoS 1 messages written and not acknowledged yet, in order; null while none. */
    private Inflight inflight;
    /** Packet ids of QoS 2 PUBLISHes received and not released yet (exactly once); null while none. */
    private Inflight qos2Received;
    /** QoS 2 PUBRECs waiting for the cluster to keep their ids, in the order received; null while none did. */
    private java.util.ArrayDeque<PendingPubrec> pubrecsWaiting;
    private static final java.util.concurrent.CompletableFuture<Void> KEPT = java.util.concurrent.CompletableFuture
            .completedFuture(null);
    /** The session this connection was welcomed to (kept after a close by the server, which clears session()). */
    private Session welcomedTo;
    /**
     * The CONNECT's will, published when the connection ends without a normal DISCONNECT (or with v5's 0x04);
     * null when it has none or it was discarded.
     */
    private PendingWill will;
    /** v5: the largest packet the client takes (its CONNECT's Maximum Packet Size); 0 for no limit. */
    private long maxPacketToClient;
    /** v5 topic aliases the client set (index = alias); null until it sets one. */
    private String[] topicAliases;
    /** Seconds the session outlives this connection with nothing stored (granted from the CONNECT). */
    private int sessionExpirySec;
    /**
     * Client PUBLISHes offered to the upstream and not answered yet, QoS 1 and 2 (what Receive Maximum counts) and
     * QoS 0 apart (a stream of QoS 0 telemetry does not refuse a QoS 1 alarm); each bounded by --max-pending-sends.
     */
    private short pendingUpstream;
    private short pendingUpstreamQos0;

    /** A will, and the session it belongs to once the CONNECT was accepted (null before). */
    private record PendingWill(Will will, Session session) {
    }

    MqttConnection(ShardContext<MqttAdapter> at) {
        super(at);
    }

    private boolean flag(int f) {
        return (flags & f) != 0;
    }

    private void set(int f) {
        flags |= (byte) f;
    }

    // ---- decoding

    @Override
    protected void decode(ByteBuf in) {
        while (!inputPaused() && in.isReadable()) {
            MqttPacket p;
            try {
                int length = MqttDecoder.packetLength(in, at.adapter.maxPacketBytes);
                if (length < 0) {
                    return;
                }
                p = MqttDecoder.decode(in, length, version);
            } catch (MqttMalformed e) {
                malformed(e);
                return;
            }
            handle(p);
        }
    }

    private void malformed(MqttMalformed e) {
        if (beforeHello() && e.reasonCode() == MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION) {
            // Answer in the oldest form every client reads, then close.
            version = MqttVersion.V311;
        }
        protocolError(-e.reasonCode(), e.getMessage(), e.reasonCode() == MqttReasonCodes.PACKET_TOO_LARGE
                ? Refusal.FRAME_TOO_LARGE : Refusal.MALFORMED_FRAME);
    }

    private void handle(MqttPacket p) {
        if (beforeHello()) {
            if (p instanceof Connect c) {
                connect(c);
            } else {
                protocolError(-MqttReasonCodes.PROTOCOL_ERROR, "CONNECT must be the first packet",
                        Refusal.MALFORMED_FRAME);
            }
            return;
        }
        countFrame();
        if (!isOpen()) {
            return; // that packet was one too many for too long: closing with 429, nothing more handled
        }
        switch (p) {
            case Publish pub -> publish(pub);
            case PubAck ack -> pubAck(ack.packetId());
            case PubRel rel -> pubRel(rel.packetId());
            case Subscribe sub -> subscribe(sub);
            case Unsubscribe unsub -> unsubscribe(unsub);
            case PingReq ping -> ctx.write(MqttEncoder.pingresp(ctx.alloc()), ctx.voidPromise());
            case Disconnect d -> {
                if (d.sessionExpirySec() >= 0 && session() != null) {
                    // v5 may change the expiry as it leaves (not from 0 to more, which is a protocol error we
                    // forgive by capping as at CONNECT).
                    sessionExpirySec = (int) Math.min(d.sessionExpirySec(),
                            at.shared.config().mqttMaxSessionExpirySec);
                    session().keepOfflineFor(sessionExpirySec, at.shard.nowMs());
                }
                if (d.reasonCode() == MqttReasonCodes.NORMAL_DISCONNECTION) {
                    // Only a normal DISCONNECT discards the will (MQTT 5 3.1.2.5): 0x04 asks for it, and a client
                    // leaving with an error (0x80 and up) is gone as abnormally as a dropped socket.
                    will = null;
                }
                if (session() != null && !session().keptAfterItsConnection()) {
                    // The session ends with this connection: its subscriptions go now, before the socket closes,
                    // so a CONNECT that arrives on another loop before this close is handled finds none.
                    session().clearSubscriptions();
                }
                leave();
            }
            case Connect c -> protocolError(-MqttReasonCodes.PROTOCOL_ERROR, "a second CONNECT",
                    Refusal.MALFORMED_FRAME);
            default -> protocolError(-MqttReasonCodes.PROTOCOL_ERROR, "unexpected " + p.getClass().getSimpleName(),
                    Refusal.MALFORMED_FRAME);
        }
    }

    // ---- the handshake

    private void connect(Connect c) {
        version = (byte) c.version();
        keepAliveRequested = (char) c.keepAliveSec();
        receiveMaximum = (char) (c.version() == MqttVersion.V5 ? c.receiveMaximum() : 0);
        maxPacketToClient = c.version() == MqttVersion.V5 ? c.maximumPacketSize() : 0;
        if (c.cleanStart()) {
            set(FLAG_CLEAN_START);
        }
        String id = c.clientId();
        if (id.isEmpty()) {
            if (!c.cleanStart() && c.version() != MqttVersion.V5) {
                protocolError(-MqttReasonCodes.CLIENT_ID_NOT_VALID, "an empty client id needs a clean session",
                        Refusal.AUTH_FAILED);
                return;
            }
            id = "mqtt-" + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
            set(FLAG_ASSIGNED_ID);
        }
        if (!Names.isValidClientId(id)) {
            protocolError(-MqttReasonCodes.CLIENT_ID_NOT_VALID, "client id must be " + Names.RULE,
                    Refusal.MALFORMED_FRAME);
            return;
        }
        if (c.authenticationMethod() != null) {
            // Enhanced authentication (v5 AUTH exchanges) is not built: a server that does not support the method
            // refuses it (MQTT 5 4.12, 0x8C), rather than accept a client that believes it authenticated.
            protocolError(-MqttReasonCodes.BAD_AUTHENTICATION_METHOD, "authentication method "
                    + c.authenticationMethod() + " not supported (enhanced authentication is not; send a token as "
                    + "the password)", Refusal.AUTH_FAILED);
            return;
        }
        if (c.will() != null && !Names.isValidTopic(c.will().topic())) {
            protocolError(-MqttReasonCodes.TOPIC_NAME_INVALID, "will topic must be " + Names.TOPIC_RULE,
                    Refusal.MALFORMED_FRAME);
            return;
        }
        will = c.will() == null ? null : new PendingWill(c.will(), null);
        long maxExpiry = at.shared.config().mqttMaxSessionExpirySec;
        // 3.1.1: a persistent session (clean session 0) lasts; v5: as long as asked (0 when absent), both capped.
        sessionExpirySec = (int) Math.min(maxExpiry, c.version() == MqttVersion.V5 ? c.sessionExpirySec()
                : c.cleanStart() ? 0 : maxExpiry);
        if (c.version() == MqttVersion.V5 && sessionExpirySec != c.sessionExpirySec()) {
            set(FLAG_EXPIRY_CHANGED);
        }
        String token = c.password() == null ? null : new String(c.password(), StandardCharsets.UTF_8);
        // Keep-alive 0 is MQTT's "no keep-alive": the longest heartbeat the server allows (--hb-max), where SWB/1's
        // hb=0 gets the shortest: an MQTT 3.1.1 client cannot be told another value, and would be closed for
        // silence every 2 x --hb-min + --idle-grace (20 s by default). With --hb-min 0 it is never idle-closed.
        int keepAliveSec = c.keepAliveSec() == 0 && at.shared.config().heartbeatMinSec > 0
                ? at.shared.config().heartbeatMaxSec : c.keepAliveSec();
        hello(id, token, c.cleanStart() ? -1 : 0, keepAliveSec);
    }

    @Override
    protected void writeWelcome(Session s, int hbSec) {
        // Present only when this session was kept for an earlier MQTT connection of the client, by its expiry, with
        // its subscriptions: not for one a push made, the store recovered after a restart or a cluster node rebuilt
        // (their stored messages come, but no subscriptions: a client told 1 would not subscribe again and miss its
        // topics), nor for one whose expiry passed while stored messages kept it; and also when that session holds
        // neither subscriptions nor messages (a publish-only device, told 0, would drop its own session state).
        boolean present = !flag(FLAG_CLEAN_START) && s.keptAt(at.shard.nowMs());
        if (!present && s.subscriptionCount() > 0) {
            s.clearSubscriptions(); // a new session as MQTT sees it: none of an ended one's subscriptions stay
        }
        ConnackProperties props = null;
        if (version == MqttVersion.V5) {
            props = ConnackProperties.none()
                    .withAssignedClientId(flag(FLAG_ASSIGNED_ID) ? s.id() : null)
                    .withServerKeepAliveSec(hbSec != keepAliveRequested ? hbSec : -1)
                    .withReceiveMaximum(receiveMaximumToAnnounce())
                    // Absent, the client takes its own value as granted (MQTT 5 3.2.2.3.2): also stated when capped to 0.
                    .withSessionExpirySec(sessionExpirySec > 0 || flag(FLAG_EXPIRY_CHANGED) ? sessionExpirySec : -1)
                    .withMaximumPacketSize(at.adapter.maxPacketBytes)
                    .withTopicAliasMaximum(TOPIC_ALIAS_MAXIMUM)
                    .withMaximumQos(-1)
                    .withSharedSubscriptionAvailable(false)
                    .withSubscriptionIdentifiersAvailable(false)
                    .withWildcardSubscriptionAvailable(true);
        }
        ctx.write(MqttEncoder.connack(ctx.alloc(), version, present, MqttReasonCodes.SUCCESS, props),
                ctx.voidPromise());
        set(FLAG_CONNACK_SENT);
        s.keepOfflineFor(sessionExpirySec, at.shard.nowMs());
        welcomedTo = s;
        endDelayedWill(s);
        // The QoS 2 messages of the session's last connection not yet released (none for a new session): parked by
        // that connection in one process, by this connection's claim in a cluster.
        int[] unreleased = at.shared.registry().unreleasedQos2().take(s.id(), at.shard.nowMs());
        if (!flag(FLAG_CLEAN_START) && unreleased.length > 0) {
            qos2Received = new Inflight();
            for (int id : unreleased) {
                qos2Received.addPacketId(id, true);
            }
        } else if (unreleased.length > 0 && at.shared.registry().directory().shared()) {
            at.shared.registry().directory().qos2Forgotten(s.id()); // a new session: the old one's ids are void
        }
        if (will != null) {
            will = new PendingWill(will.will(), s);
        }
    }

    /**
     * In a cluster, a session that outlives its connection keeps its unreleased QoS 2 ids with the client's keys in
     * Redis as they change, so that its next connection, on whichever node, has them (a takeover too).
     */
    private boolean qos2InDirectory() {
        return sessionExpirySec > 0 && welcomedTo != null && at.shared.registry().directory().shared();
    }

    /**
     * Parks the QoS 2 ids not released yet with the session {@code s} when it outlives this connection, once: a
     * later connection of the client takes them.
     */
    private void parkQos2IfKept(Session s) {
        if (qos2Received == null || qos2Received.isEmpty() || sessionExpirySec <= 0
                || qos2Received.size() > receiveMaximumToAnnounce()) {
            return;
        }
        long nowMs = at.shard.nowMs();
        at.shared.registry().unreleasedQos2().park(s.id(), qos2Received.packetIds(),
                nowMs + sessionExpirySec * 1000L, nowMs);
        qos2Received = null;
    }

    /**
     * How long Redis keeps the ids after their last change: the session's expiry, plus a minute for the connection
     * still open then (when it ends is not written: its node may die without saying). An id kept past its session
     * loses nothing: a new session's PUBLISH on it comes without DUP and is delivered.
     */
    private long qos2KeepMs() {
        return sessionExpirySec * 1000L + 60_000L;
    }

    /**
     * The QoS 1 and 2 PUBLISHes this client may have unanswered: --window, but with --upstream no more than
     * --max-pending-sends (beyond, they are refused 0x97), and at most 65,535 (MQTT's largest; 0 is an error).
     */
    private int receiveMaximumToAnnounce() {
        int n = at.shared.config().windowMessages;
        if (at.shared.services().upstream() != UpstreamSink.NONE) {
            n = Math.min(n, at.shared.config().maxPendingSendsPerClient);
        }
        return Math.max(1, Math.min(n, 65_535));
    }

    /**
     * Taken over: told on the session's loop before the newer connection gets the session (its socket may be gone
     * already), so the will waits (or goes, without a delay) now, and the newer connection's welcome finds it: due at
     * once if it starts a new session with Clean Start (MQTT 5 3.1.4: the old one ended), void if it continues it.
     */
    @Override
    protected void closing(int code) {
        if (code == 503 || !flag(FLAG_CONNACK_SENT)) {
            // Sent away by a drain (the client comes back elsewhere at once), or never connected: not a failure its
            // subscribers should hear of. Here, before the session lets go of this connection (sessionLetGo).
            will = null;
        }
        if (code == 409 && will != null && will.session() != null) {
            PendingWill w = will;
            will = null;
            publishWill(w.will(), w.session());
        }
    }

    /**
     * v5 clients are told the server's keep-alive; a 3.1.1 client cannot be, and keeps pinging on its own schedule:
     * one above --hb-max is taken as it is (else it is closed as idle before its next PINGREQ, its will published,
     * again after every reconnect). Below --hb-min it is raised, which only makes the server more patient.
     */
    @Override
    protected int heartbeat(int requested) {
        int clamped = super.heartbeat(requested);
        return version != MqttVersion.V5 && requested > clamped ? requested : clamped;
    }

    /**
     * Parks the unreleased QoS 2 ids now, as the session lets go of this connection, not once its socket closed:
     * taken over (409), before the new connection's CONNACK, which takes them; ended by the server or the client
     * otherwise, the socket may linger for seconds (a goodbye being flushed), and a client that comes back meanwhile
     * would find none (its DUP resend then delivered twice). Not for a session that ended (beyond
     * --max-offline-sessions, say): a new one starts without them. In a cluster, Redis keeps them (qos2InDirectory).
     */
    @Override
    protected void sessionLetGo(Session s) {
        if (!s.dead() && !at.shared.registry().directory().shared()) {
            parkQos2IfKept(s);
        }
        // The will too, now rather than when the socket closes: a connection the server ends lingers for seconds
        // (its DISCONNECT being read), and a client that came back with Clean Start meanwhile found no will waiting,
        // while the late one then saw its session online again and took its will for void: never published.
        publishPendingWill();
    }

    private void publishPendingWill() {
        PendingWill w = will;
        will = null;
        if (w != null && w.session() != null) {
            publishWill(w.will(), w.session());
        }
    }

    /**
     * Why the connection closes, in MQTT: the codes of {@link ClientConnection} (HTTP-like: 401, 409, 503, ...) or,
     * negated, an MQTT reason code this class chose itself. A CONNACK refusal before the session, a v5 DISCONNECT
     * after it; nothing for v3.1.1 after it, nor before any CONNECT.
     */
    @Override
    protected Object goodbye(int code, String text, long retryMs) {
        if (code == 503 || !flag(FLAG_CONNACK_SENT)) {
            // Sent away by a drain (the client comes back elsewhere at once), or never connected: not a failure
            // its subscribers should hear of.
            will = null;
        }
        if (version == 0) {
            return null;
        }
        int reason = code < 0 ? -code : reasonFor(code, flag(FLAG_CONNACK_SENT));
        if (!flag(FLAG_CONNACK_SENT)) {
            set(FLAG_CONNACK_SENT);
            int answer = version == MqttVersion.V5 ? reason : MqttReasonCodes.connackCodeFor(version, reason);
            if (version != MqttVersion.V5) {
                return MqttEncoder.connack(ctx.alloc(), version, false, answer, null);
            }
            ByteBuf connack = MqttEncoder.connack(ctx.alloc(), version, false, answer,
                    ConnackProperties.none().withReasonString(sanitize(text)));
            return withinMaximumPacketSize(connack) ? connack
                    : MqttEncoder.connack(ctx.alloc(), version, false, answer, null);
        }
        if (version != MqttVersion.V5) {
            return null;
        }
        ByteBuf disconnect = MqttEncoder.disconnect(ctx.alloc(), version, reason, sanitize(text), null);
        return withinMaximumPacketSize(disconnect) ? disconnect
                : MqttEncoder.disconnect(ctx.alloc(), version, reason, null, null);
    }

    /**
     * Whether {@code packet} fits the v5 client's Maximum Packet Size; if not it is released, to be sent again without
     * its reason string, which MQTT 5 leaves out rather than exceed the limit (3.2.2.3.9, 3.14.2.2.3).
     */
    private boolean withinMaximumPacketSize(ByteBuf packet) {
        if (maxPacketToClient <= 0 || packet.readableBytes() <= maxPacketToClient) {
            return true;
        }
        packet.release();
        return false;
    }

    private static int reasonFor(int code, boolean sessionStarted) {
        return switch (code) {
            case 400 -> MqttReasonCodes.MALFORMED_PACKET;
            case 401 -> sessionStarted ? MqttReasonCodes.NOT_AUTHORIZED : MqttReasonCodes.BAD_USERNAME_OR_PASSWORD;
            case 403 -> MqttReasonCodes.NOT_AUTHORIZED;
            case 408 -> sessionStarted ? MqttReasonCodes.KEEP_ALIVE_TIMEOUT : MqttReasonCodes.SERVER_UNAVAILABLE;
            // A handshake overtaken by a newer one: 0x8E is no CONNACK code.
            case 409 -> sessionStarted ? MqttReasonCodes.SESSION_TAKEN_OVER : MqttReasonCodes.SERVER_BUSY;
            case 413 -> MqttReasonCodes.PACKET_TOO_LARGE;
            case 429 -> sessionStarted ? MqttReasonCodes.QUOTA_EXCEEDED : MqttReasonCodes.SERVER_BUSY;
            case 503 -> sessionStarted ? MqttReasonCodes.SERVER_SHUTTING_DOWN : MqttReasonCodes.SERVER_UNAVAILABLE;
            default -> MqttReasonCodes.UNSPECIFIED_ERROR;
        };
    }

    // ---- pushes to the client

    @Override
    public boolean takes(Message m) {
        return maxPacketToClient == 0 || !tooLarge(m, topicOf(m), m.stored() && m.topic() == null,
                publishProperties(m.properties(), at.shard.nowMs()));
    }

    private String topicOf(Message m) {
        return m.topic() != null ? m.topic() : at.adapter.pushTopic(session().id());
    }

    /** Whether {@code m} as a PUBLISH is larger than the client's Maximum Packet Size (v5; none: never). */
    private boolean tooLarge(Message m, String topic, boolean qos1, PublishProperties properties) {
        return maxPacketToClient > 0 && MqttEncoder.publishBytes(version, topic, m.payload().length, qos1 ? 1 : 0,
                properties) > maxPacketToClient;
    }

    @Override
    public void writeMessage(Message m) {
        writeMessage(m, false);
    }

    /**
     * A QoS 1 message sent {@code again} (unacknowledged on an earlier connection of the session) goes with DUP set
     * and, its packet id following from its seq, the id it had then (MQTT-3.3.1-1, MQTT-4.4.0-1). A topic message
     * (QoS 0) goes with its publisher's v5 properties, its Message Expiry as what is left of it.
     */
    @Override
    public void writeMessage(Message m, boolean again) {
        String topic = topicOf(m);
        boolean qos1 = m.stored() && m.topic() == null;
        // One past its Message Expiry is not sent (MQTT-3.3.2-5): the core does not hand it over (Message.expired).
        PublishProperties properties = publishProperties(m.properties(), at.shard.nowMs());
        if (tooLarge(m, topic, qos1, properties)) {
            // Larger than the client takes (v5 Maximum Packet Size): not sent, as MQTT asks, and counted. A QoS 1
            // one is not put in flight either, so the next PUBACK (or the queue emptying) acknowledges it, instead of
            // it being sent first again at every reconnect and cutting the client off each time.
            refused(Refusal.PAYLOAD_TOO_LARGE);
            if (qos1 && (inflight == null || inflight.isEmpty())) {
                // Nothing in flight before it whose PUBACK would cover it: acknowledged here, after this pump, or
                // it would hold a place in the window for good.
                ctx.executor().execute(() -> {
                    Session s = session();
                    if (s != null && (inflight == null || inflight.isEmpty())) {
                        // Everything written, as a PUBACK that empties the window does (pubAck): QoS 0 messages
                        // written after it meanwhile too, which nothing else would ever acknowledge (they held the
                        // window, and topic delivery stalled behind them).
                        s.ack(Long.MAX_VALUE);
                        s.pump(true); // flushed: nothing else may come on this loop to flush it
                    }
                });
            }
            return;
        }
        if (qos1) {
            if (inflight == null) {
                inflight = new Inflight();
            }
            int packetId = inflight.add(m.seq());
            ctx.write(MqttEncoder.publish(ctx.alloc(), version, topic, m.payload(), 1, false, again, packetId,
                    properties), ctx.voidPromise());
        } else {
            ctx.write(MqttEncoder.publish(ctx.alloc(), version, topic, m.payload(), 0, false, false, 0,
                    properties), ctx.voidPromise());
        }
    }

    /** QoS 0 messages are not acknowledged in MQTT: the core counts them delivered once written. */
    @Override
    public boolean acknowledgesTransient() {
        return false;
    }

    /**
     * A v5 client's Receive Maximum; for 3.1.1, which has none, the 65,535 packet ids there are (a larger
     * {@code --window} would leave a message without a free id).
     */
    @Override
    public int windowLimit() {
        return receiveMaximum == 0 ? 0xFFFF : receiveMaximum;
    }

    /**
     * The QoS 1 messages in flight by this connection's count (the PUBACKs it waits for), below the window: one
     * that expired in flight left the session's queue, but the client holds it until its PUBACK, and a v5 client
     * that gets more than its Receive Maximum disconnects (and 3.1.1 would run out of packet ids).
     */
    @Override
    public boolean hasRoom() {
        return inflight == null || inflight.size() < windowLimit();
    }

    /**
     * A PUBACK: the client has every QoS 1 message up to this one (they are acknowledged in order), and the QoS 0
     * ones written after it until the next QoS 1 one: the core's cumulative acknowledgement covers all of them.
     */
    private void pubAck(int packetId) {
        if (inflight == null || !inflight.acknowledge(packetId)) {
            return; // not one of ours (already acknowledged, or from an earlier connection): nothing to do
        }
        long upTo = inflight.isEmpty() ? Long.MAX_VALUE : inflight.firstSeq() - 1;
        if (inflight.isEmpty()) {
            inflight = null;
        }
        session().ack(upTo);
        session().pump(false);
    }

    // ---- the client's own packets

    private void publish(Publish received) {
        Publish p = resolveAlias(received);
        if (p == null) {
            return; // closing: a bad alias
        }
        if (!Names.isValidTopic(p.topic())) {
            // A topic MQTT allows (the decoder closed on one it does not) but this server does not: a space, another
            // script, longer than its names. Refused, not the connection's end: a client with a persistent session
            // sends an unacknowledged PUBLISH again on every reconnect, so closing would loop for ever. v5 is told
            // 0x90; 3.1.1 has no refusal: a positive acknowledgement, and the message goes nowhere.
            refused(Refusal.MALFORMED_FRAME);
            answer(p, version == MqttVersion.V5 ? MqttReasonCodes.TOPIC_NAME_INVALID : MqttReasonCodes.SUCCESS);
            return;
        }
        at.shared.metrics().sendsReceived.increment();
        if (at.adapter.isPushTopic(p.topic())) {
            // Only the backend pushes there. v5 is told 0x87; 3.1.1 has no refusal: its PUBACK is positive, as
            // MQTT asks of a server that does not authorize a PUBLISH, and the message goes nowhere.
            refused(Refusal.PUBLISH_NOT_AUTHORIZED);
            answer(p, MqttReasonCodes.NOT_AUTHORIZED);
            return;
        }
        boolean toUpstream = at.shared.services().upstream() != UpstreamSink.NONE;
        if (p.qos() == 2) {
            if (qos2Received == null) {
                qos2Received = new Inflight();
            }
            boolean known = qos2Received.contains(p.packetId());
            boolean resent = known;
            java.util.concurrent.CompletableFuture<Void> kept = null;
            if (known && qos2Received.inherited(p.packetId())) {
                // An id the session's last connection left unreleased: a PUBLISH sent again says so (DUP, as MQTT
                // asks); one without DUP is a new message (the client has that exchange behind it, or the ids were
                // stale), delivered rather than lost.
                qos2Received.adopt(p.packetId());
                resent = p.dup();
            }
            if (!resent) {
                if (!known && qos2Received.size() >= receiveMaximumToAnnounce()) {
                    // More unreleased QoS 2 messages than the CONNACK allowed (v5), or than the window (3.1.1, told
                    // nothing: real clients keep 10-20 in flight): each would be kept until its PUBREL.
                    protocolError(-MqttReasonCodes.RECEIVE_MAXIMUM_EXCEEDED, "more than "
                            + receiveMaximumToAnnounce() + " QoS 2 messages not released", Refusal.MALFORMED_FRAME);
                    return;
                }
                if (!retained(p)) {
                    return;
                }
                if (!known) {
                    qos2Received.addPacketId(p.packetId());
                }
                if (qos2InDirectory()) {
                    kept = at.shared.registry().directory().qos2Received(welcomedTo.id(), p.packetId(),
                            qos2KeepMs());
                }
                at.shared.registry().pushes().publish(p.topic(), p.payload(), properties(p), session().id());
            }
            // PUBREC once the cluster keeps the id (and after every earlier QoS 2 message's: in order).
            afterQos2Kept(kept, () -> {
                if (toUpstream) {
                    // PUBREC once the backend has it; a resend too (subscribers had it once): its first offer may
                    // still be on its way, have failed, or have gone with the connection that dropped, and a PUBREC
                    // now would end the client's copy before the backend has one (at least once upstream).
                    offerUpstream(p);
                } else {
                    answer(p, MqttReasonCodes.SUCCESS);
                }
            });
            return;
        }
        if (!retained(p)) {
            return;
        }
        at.shared.registry().pushes().publish(p.topic(), p.payload(), properties(p), session().id());
        if (toUpstream) {
            offerUpstream(p); // QoS 1: PUBACK once the backend has it
        } else if (p.qos() == 1) {
            answer(p, MqttReasonCodes.SUCCESS);
        }
    }

    /**
     * Keeps {@code p} as its topic's retained message when it asks to be, and says whether it goes on to be published.
     * When the retained messages are full (counted as {@code retained_full}), v5 QoS 1 and 2 are refused (0x97 quota
     * exceeded) and the message goes nowhere (false); 3.1.1 cannot be told, its positive acknowledgement says
     * "delivered", and QoS 0 has none, so the message is published (and offered upstream) as one without retain
     * (true). For QoS 2 only a new message, not a
     * DUP resend of one received already: retaining that again would bring back its payload over one retained since.
     */
    private boolean retained(Publish p) {
        // A v5 QoS 0 message cannot be refused (no acknowledgement): published without retain, like a 3.1.1 one.
        if (p.retain() && !at.shared.registry().pushes().retain(p.topic(), p.payload(), properties(p),
                at.shard.nowMs()) && version == MqttVersion.V5 && p.qos() > 0) {
            answer(p, MqttReasonCodes.QUOTA_EXCEEDED);
            return false;
        }
        return true;
    }

    /** What an alias set with a topic this server refuses stands for: refused again ({@link Names}: a space). */
    private static final String REFUSED_ALIAS_TOPIC = "refused topic";

    /**
     * v5 topic aliases (client to server): a PUBLISH with a topic and an alias sets the alias, one with an alias and
     * no topic uses it. Returns the PUBLISH with its topic, or null after closing for a bad alias.
     */

    private Publish resolveAlias(Publish p) {
        int alias = p.topicAlias();
        if (alias == 0) {
            return p;
        }
        if (alias > TOPIC_ALIAS_MAXIMUM) {
            protocolError(-MqttReasonCodes.TOPIC_ALIAS_INVALID, "topic alias " + alias + " above the maximum "
                    + TOPIC_ALIAS_MAXIMUM, Refusal.MALFORMED_FRAME);
            return null;
        }
        if (!p.topic().isEmpty()) {
            if (topicAliases == null) {
                topicAliases = new String[TOPIC_ALIAS_MAXIMUM + 1];
            }
            // A topic this server refuses (up to 65,535 characters MQTT allows) is kept as a short stand-in, refused
            // alike at each use: 16 of them held a megabyte per connection for as long as it lasted.
            topicAliases[alias] = Names.isValidTopic(p.topic()) ? p.topic() : REFUSED_ALIAS_TOPIC;
            return p;
        }
        String topic = topicAliases == null ? null : topicAliases[alias];
        if (topic == null) {
            protocolError(-MqttReasonCodes.PROTOCOL_ERROR, "topic alias " + alias + " was never set",
                    Refusal.MALFORMED_FRAME);
            return null;
        }
        return new Publish(topic, p.payload(), p.qos(), p.retain(), p.dup(), p.packetId(), alias,
                p.messageExpirySec(), p.userProperties(), p.contentType(), p.responseTopic(), p.correlationData(),
                p.payloadFormat());
    }

    /** What a v5 PUBLISH carries for its subscribers, as the core keeps it (null: nothing); its expiry from now. */
    private MessageProperties properties(Publish p) {
        return properties(p.properties(), at.shard.nowMs());
    }

    /**
     * A message's v5 properties as the core keeps them, or null when it has none. A Message Expiry Interval counts
     * from {@code nowMs}; 0 is taken as none, as Mosquitto does (a message that expired as it was published would
     * reach nobody).
     */
    private static MessageProperties properties(PublishProperties p, long nowMs) {
        if (p.isEmpty()) {
            return null;
        }
        List<String> pairs = new java.util.ArrayList<>(2 * p.userProperties().size());
        for (UserProperty u : p.userProperties()) {
            pairs.add(u.name());
            pairs.add(u.value());
        }
        long expiresAtMs = p.messageExpirySec() > 0 ? nowMs + p.messageExpirySec() * 1000L : 0;
        return new MessageProperties(List.copyOf(pairs), p.contentType(), p.responseTopic(), p.correlationData(),
                p.payloadFormat() == null ? MessageProperties.NO_FORMAT : p.payloadFormat(), expiresAtMs);
    }

    /**
     * The core's properties of a message as a v5 PUBLISH carries them (none for 3.1.1), its Message Expiry Interval
     * being what is left of it at {@code nowMs} (MQTT-3.3.2-6), at least a second.
     */
    private PublishProperties publishProperties(MessageProperties m, long nowMs) {
        if (m == null || version != MqttVersion.V5) {
            return PublishProperties.NONE;
        }
        List<UserProperty> user = new java.util.ArrayList<>(m.user().size() / 2);
        for (int i = 0; i + 1 < m.user().size(); i += 2) {
            user.add(new UserProperty(m.user().get(i), m.user().get(i + 1)));
        }
        long expirySec = m.expiresAtMs() == 0 ? -1 : Math.max(1, (m.expiresAtMs() - nowMs + 999) / 1000);
        return new PublishProperties(m.payloadFormat() == MessageProperties.NO_FORMAT ? null : m.payloadFormat(),
                expirySec, m.contentType(), m.responseTopic(), m.correlationData(), user);
    }

    /** A QoS 2 PUBLISH's PUBREC (or offer upstream), waiting for the cluster to keep its id. */
    private record PendingPubrec(java.util.concurrent.CompletableFuture<Void> kept, Runnable reply) {
    }

    /**
     * Runs {@code reply} (a QoS 2 PUBLISH's PUBREC, or its offer upstream) once {@code kept} (null: nothing to wait
     * for) and every earlier QoS 2 message's wait completed, in the order received, on this connection's loop; at
     * once when nothing waits.
     */
    private void afterQos2Kept(java.util.concurrent.CompletableFuture<Void> kept, Runnable reply) {
        if (kept == null && (pubrecsWaiting == null || pubrecsWaiting.isEmpty())) {
            reply.run();
            return;
        }
        if (pubrecsWaiting == null) {
            pubrecsWaiting = new java.util.ArrayDeque<>();
        }
        pubrecsWaiting.add(new PendingPubrec(kept == null ? KEPT : kept, reply));
        if (kept != null) {
            kept.whenComplete((v, e) -> at.shard.execute(this::sendKeptPubrecs));
        }
    }

    /** Sends the waiting PUBRECs whose ids are kept, from the first, up to the first still waiting. */
    private void sendKeptPubrecs() {
        boolean sent = false;
        while (pubrecsWaiting != null && !pubrecsWaiting.isEmpty() && pubrecsWaiting.peek().kept().isDone()) {
            PendingPubrec p = pubrecsWaiting.poll();
            if (isOpen()) {
                p.reply().run();
                sent = true;
            }
        }
        if (sent) {
            ctx.flush();
        }
    }

    /** PUBACK (QoS 1) or PUBREC (QoS 2) with {@code reason}; nothing for QoS 0. */
    private void answer(Publish p, int reason) {
        if (p.qos() == 1) {
            ctx.write(MqttEncoder.puback(ctx.alloc(), version, p.packetId(), reason), ctx.voidPromise());
        } else if (p.qos() == 2) {
            ctx.write(MqttEncoder.pubrec(ctx.alloc(), version, p.packetId(), reason), ctx.voidPromise());
        }
    }

    /**
     * Offers a client's PUBLISH to the upstream sink (--upstream) like a SWB/1 SEND, with its topic: a QoS 1 or 2
     * PUBLISH is acknowledged only once the backend accepted it. A refusal is a v5 PUBACK/PUBREC 0x80 with the
     * reason. MQTT 3.1.1 cannot refuse: a lasting refusal (the backend refused it, NACK 502) is acknowledged
     * positively and the message goes nowhere (counted as {@code send_nacked}), as MQTT asks of a server that does not
     * authorize a PUBLISH: closing would have the client send it again on every reconnect, for ever; a passing one
     * (backend unavailable, buffer full, 503) closes the connection, and the client sends it again when it comes
     * back. At most --max-pending-sends unanswered per client (0x97 quota exceeded, or a close in 3.1.1).
     */
    private void offerUpstream(Publish p) {
        if ((p.qos() == 0 ? pendingUpstreamQos0 : pendingUpstream) >= at.shared.config().maxPendingSendsPerClient) {
            refused(Refusal.SEND_TOO_MANY_PENDING);
            upstreamRefused(p, MqttReasonCodes.QUOTA_EXCEEDED, false, "too many PUBLISHes waiting for the upstream");
            return;
        }
        if (p.qos() == 0) {
            pendingUpstreamQos0++;
        } else {
            pendingUpstream++;
            if (version != MqttVersion.V5 && pendingUpstream >= at.shared.config().maxPendingSendsPerClient) {
                // 3.1.1 has no Receive Maximum to tell the client, nor a refusal: its next packets wait in the socket
                // until an answer makes room (closed instead, it sent them all again at every reconnect, and never
                // got past them).
                holdInputBack();
            }
        }
        at.shared.services().upstream().offer(session().id(), Integer.toString(p.packetId()), p.topic(), p.payload(),
                new UpstreamSink.Callback() {
                    @Override
                    public void accepted() {
                        upstreamAnswered(p, 0, null);
                    }

                    @Override
                    public void refused(int code, String reason) {
                        upstreamAnswered(p, code, code + " " + reason);
                    }
                });
    }

    /** {@code code}: 0 accepted, else the refusal's (502 lasting, 503 passing). */
    private void upstreamAnswered(Publish p, int code, String why) {
        if (!at.shard.inLoop()) {
            at.shard.execute(() -> upstreamAnswered(p, code, why));
            return;
        }
        boolean accepted = code == 0;
        if (p.qos() == 0) {
            pendingUpstreamQos0--;
        } else {
            pendingUpstream--;
        }
        if (accepted) {
            at.shared.metrics().sendsAccepted.increment();
        } else {
            refused(Refusal.SEND_NACKED);
        }
        if (!isOpen()) {
            return;
        }
        if (accepted) {
            answer(p, MqttReasonCodes.SUCCESS);
        } else {
            upstreamRefused(p, MqttReasonCodes.UNSPECIFIED_ERROR, code == 502, "upstream refused: " + why);
        }
        ctx.flush();
        upstreamAnswerWritten();
        if (pendingUpstream < at.shared.config().maxPendingSendsPerClient) {
            releaseInput();
        }
    }

    @Override
    protected boolean awaitsUpstream() {
        return pendingUpstream > 0; // QoS 1 and 2: a QoS 0 PUBLISH has no answer to wait for
    }

    private void upstreamRefused(Publish p, int reason, boolean lasting, String why) {
        if (p.qos() == 0) {
            return; // at most once: nothing to say
        }
        if (p.qos() == 2 && qos2Received != null && version == MqttVersion.V5) {
            if (qos2Received.removePacketId(p.packetId()) && qos2InDirectory()) {
                // a refused PUBREC ends the exchange: no PUBREL follows
                at.shared.registry().directory().qos2Released(welcomedTo.id(), p.packetId());
            }
        } // 3.1.1: the client sends it again after reconnecting; its id stays, so subscribers do not get it twice
        if (version == MqttVersion.V5) {
            answer(p, reason);
        } else if (lasting) {
            answer(p, MqttReasonCodes.SUCCESS); // 3.1.1 has no refusal, and a resend would be refused again
        } else {
            // 3.1.1 has no refusal: closed, the client resends after reconnecting. Its will is not published: the
            // device is not gone, it is sent away to come back (as by a drain), and its subscribers would hear of an
            // end (say "offline") from every device publishing while the backend is unavailable.
            will = null;
            closeWith(-reason, sanitize(why), 0);
        }
    }

    // ---- the will

    @Override
    public void channelInactive(io.netty.channel.ChannelHandlerContext ctx) {
        super.channelInactive(ctx); // lets go of the session (sessionLetGo parks the QoS 2 ids, publishes the will)
        publishPendingWill(); // one the session had let go of before (nothing, as a rule)
    }

    /**
     * A will waiting out its delay: its timer, the session it belongs to, its publishing (which checks it), and the
     * bytes it holds of {@code --max-queued-total}, given back once: by the timer when it runs, or by whoever
     * cancels it ({@link #cancel}).
     */
    record DelayedWill(java.util.concurrent.Future<?> timer, Session session, Runnable publish, int bytes,
                       io.switchboard.session.QueuedBytes budget) {
        /** Stops the timer; true (and the bytes given back) when it had not run. */
        boolean cancel() {
            if (!timer.cancel(false)) {
                return false;
            }
            budget.give(bytes);
            return true;
        }
    }

    /**
     * The client is connected again (authenticated, its session attached): a will of its previous connection still
     * waiting out its delay is void when this connection continues that session, and due now when it started a new
     * one (Clean Start, even where the server reuses the session object; MQTT 5 3.1.3.2.2: the will is published when
     * the delay passes or the session ends, whichever is first). Either way it no longer waits: a later drop of this
     * connection must not publish the earlier connection's will.
     */
    private void endDelayedWill(Session s) {
        // By Clean Start, and in one process also by session object (see below); not by object in a cluster, where
        // every reconnect gets a new one, resumed or not.
        DelayedWill older = at.adapter.delayedWills.remove(s.id());
        if (older != null && older.cancel() && (flag(FLAG_CLEAN_START)
                || older.session() != s && !at.shared.registry().directory().shared())) {
            // In one process a new session object means the old session ended (removed, e.g. past the offline
            // sessions limit), so its will is due; in a cluster every reconnect has a new one.
            older.publish().run();
        }
    }

    /** Publishes {@code w} now, or after its v5 delay unless a connection of the same session came back. */
    private void publishWill(Will w, Session s) {
        if (at.adapter.isPushTopic(w.topic())) {
            refused(Refusal.PUBLISH_NOT_AUTHORIZED); // only the backend publishes on push topics
            return;
        }
        Runnable publish = () -> {
            var pushes = at.shared.registry().pushes();
            // Published whether or not it could be retained (the retained messages full, counted as retained_full):
            // the subscribers connected now must hear of the client's end (MQTT 3.1.2-8).
            // Its Message Expiry counts from now, when it is published (MQTT 5 3.1.3.2.4).
            long nowMs = at.shard.nowMs();
            MessageProperties props = properties(w.properties(), nowMs);
            if (w.retain()) {
                pushes.retain(w.topic(), w.payload(), props, nowMs);
            }
            pushes.publish(w.topic(), w.payload(), props, s.id());
        };
        // The will waits for its delay or the end of the session, whichever comes first (MQTT 5 3.1.3.2.2): a
        // session that ends with the connection (Session Expiry 0) has its will published now.
        long delaySec = Math.min(Math.min(w.delayIntervalSec(), sessionExpirySec), MAX_WILL_DELAY_SEC);
        if (s.dead() && !at.shared.registry().directory().shared()) {
            delaySec = 0; // the session ended with the connection (beyond --max-offline-sessions, say): due now
        }
        if (delaySec > 0 && s.online()) {
            // The client is connected again already (its welcome found no will waiting yet): void. A takeover does
            // not come here: its will is handed over when it is told (see goodbye).
            return;
        }
        // A waiting will holds its payload (up to the largest packet) for up to a day, for a client id that may never
        // come back: counted against --max-queued-total with the queued pushes. Past the budget it is published now
        // rather than kept (early, but not lost), and counted as queued_total.
        // Counted as a queued message is: its bytes (properties too) and a message's own cost.
        MessageProperties props = properties(w.properties(), 0);
        int bytes = (int) Math.min(Integer.MAX_VALUE, w.payload().length + w.topic().length()
                + (props == null ? 0 : props.bytes())
                + io.switchboard.service.PushService.QUEUED_MESSAGE_OVERHEAD_BYTES);
        var budget = at.shared.registry().queuedBytes();
        if (delaySec > 0 && !budget.tryTake(bytes)) {
            refused(Refusal.QUEUED_TOTAL);
            delaySec = 0;
        }
        if (delaySec > 0) {
            var wills = at.adapter.delayedWills;
            java.util.concurrent.CompletableFuture<DelayedWill> self = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.Future<?> timer = at.shard.eventLoop().schedule(() -> {
                budget.give(bytes);
                wills.remove(s.id(), self.getNow(null));
                // The session's state is read on the loop that owns it now: a reconnect within the delay may have
                // moved it to another loop (this timer runs on the loop of the connection that dropped).
                at.shared.registry().execute(s, cur -> {
                    if (!cur.online()) { // else the client reconnected within the delay (see endDelayedWill)
                        publishUnlessClaimedSince(cur, publish);
                    }
                });
            }, delaySec, java.util.concurrent.TimeUnit.SECONDS);
            DelayedWill mine = new DelayedWill(timer, s, publish, bytes, budget);
            self.complete(mine);
            DelayedWill older = wills.put(s.id(), mine);
            if (older != null && older.cancel() && older.session() != s) {
                // The client connected again since, to a new session: the old one ended, so its will is due now
                // (the same session resumed would have made it void, as its own check would have found).
                older.publish().run();
            }
        } else {
            publish.run();
        }
    }

    /**
     * Runs {@code publish} (a will whose delay passed) unless, in a cluster, the client connected again on another
     * node since {@code s}'s claim: that node cannot tell this one, and whether it continued the session or started
     * a new one is not known here, so the will is void either way (a continued session must not get it, MQTT 5
     * 3.1.3.2.2). When the cluster cannot say (Redis unreachable), the will is published.
     */
    private void publishUnlessClaimedSince(Session s, Runnable publish) {
        io.switchboard.session.ClientDirectory directory = at.shared.registry().directory();
        if (!directory.shared()) {
            publish.run();
            return;
        }
        directory.claimedSince(s.id(), s.epoch()).whenComplete((again, e) -> {
            if (!Boolean.TRUE.equals(again)) {
                publish.run();
            }
        });
    }

    private void pubRel(int packetId) {
        int reason = MqttReasonCodes.SUCCESS;
        if (qos2Received == null || !qos2Received.removePacketId(packetId)) {
            reason = MqttReasonCodes.PACKET_ID_NOT_FOUND;
        } else {
            if (qos2InDirectory()) {
                at.shared.registry().directory().qos2Released(welcomedTo.id(), packetId);
            }
            if (qos2Received.isEmpty()) {
                qos2Received = null;
            }
        }
        ctx.write(MqttEncoder.pubcomp(ctx.alloc(), version, packetId, reason), ctx.voidPromise());
    }

    private void subscribe(Subscribe s) {
        int max = at.shared.config().maxSubscriptionsPerClient;
        int[] codes = new int[s.subscriptions().size()];
        boolean[] sendRetained = new boolean[codes.length];
        if (s.subscriptionIdentifier() > 0) {
            // The CONNACK said none are available: granted without, the client would get messages without the
            // identifier it routes them by. Each filter refused (MQTT 5 3.9.3, 0xA1); nothing subscribed.
            java.util.Arrays.fill(codes, MqttReasonCodes.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED);
            ctx.write(MqttEncoder.suback(ctx.alloc(), version, s.packetId(), codes), ctx.voidPromise());
            return;
        }
        for (int i = 0; i < codes.length; i++) {
            Subscription sub = s.subscriptions().get(i);
            String filter = sub.filter();
            if (filter.startsWith("$share/")) {
                codes[i] = version == MqttVersion.V5 ? MqttReasonCodes.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED
                        : MqttReasonCodes.UNSPECIFIED_ERROR;
                continue;
            }
            if (!Names.isValidTopicFilter(filter)) {
                codes[i] = version == MqttVersion.V5 ? MqttReasonCodes.TOPIC_FILTER_INVALID
                        : MqttReasonCodes.UNSPECIFIED_ERROR;
                continue;
            }
            Session.Subscribed added = session().subscribe(filter, max, sub.noLocal());
            if (added == Session.Subscribed.LIMIT) {
                refused(Refusal.TOO_MANY_SUBSCRIPTIONS);
                codes[i] = version == MqttVersion.V5 ? MqttReasonCodes.QUOTA_EXCEEDED
                        : MqttReasonCodes.UNSPECIFIED_ERROR;
                continue;
            }
            // Granted what the client will get: topic messages go at QoS 0 (best effort, nothing kept for an offline
            // subscriber), so a filter gets 0 (MQTT lets a server grant less than asked); the client's own push topic,
            // where stored pushes come at QoS 1, gets up to 1.
            codes[i] = io.switchboard.session.TopicIndex.matches(filter, at.adapter.pushTopic(session().id()))
                    ? Math.min(sub.qos(), 1) : 0;
            // Retain handling (v5; 0 in 3.1.1): 0 always, 1 only for a new subscription, 2 never.
            sendRetained[i] = sub.retainHandling() == 0
                    || (sub.retainHandling() == 1 && added == Session.Subscribed.ADDED);
        }
        ctx.write(MqttEncoder.suback(ctx.alloc(), version, s.packetId(), codes), ctx.voidPromise());
        // After the SUBACK, at QoS 0 with the retain flag set, as MQTT asks: once per filter however often one
        // SUBSCRIBE names it, and at most --max-queued-bytes of payload per SUBSCRIBE. Unbounded, one packet naming
        // '#' thousands of times wrote the whole retained store thousands of times into this connection's buffer.
        // Also no more than the connection's write buffer takes now (many SUBSCRIBEs in one read are handled
        // before reading pauses). The rest is skipped and counted (topic_queue_full).
        long[] budget = {Math.min(at.shared.config().maxQueuedBytesPerClient,
                ctx.channel().bytesBeforeUnwritable())};
        int[] skipped = {0};
        long nowMs = at.shard.nowMs();
        java.util.Set<String> sent = new java.util.HashSet<>();
        long looked = 0;
        // At most --client-burst frames' worth of looking per SUBSCRIBE (a million topics by default): one naming a
        // hundred '+/x' filters looked at the whole store a hundred times before any of it was charged.
        long maxLooks = at.shared.config().clientRate == 0 ? Long.MAX_VALUE
                : (long) at.shared.config().clientBurst * RETAINED_TOPICS_PER_FRAME;
        for (int i = 0; i < codes.length; i++) {
            if (sendRetained[i] && sent.add(s.subscriptions().get(i).filter())) {
                String filter = s.subscriptions().get(i).filter();
                if (looked >= maxLooks) {
                    skipped[0]++; // its retained messages are not looked for: counted once
                    continue;
                }
                looked += at.shared.registry().retained().forEachMatch(filter, nowMs, maxLooks - looked, (topic, r) -> {
                    PublishProperties properties = publishProperties(r.properties(), nowMs);
                    // The whole PUBLISH counts (a small payload may come with kilobytes of properties).
                    long size = MqttEncoder.publishBytes(version, topic, r.payload().length, 0, properties);
                    if (size > budget[0] || (maxPacketToClient > 0 && size > maxPacketToClient)) {
                        skipped[0]++; // over the budget, or larger than the v5 client's Maximum Packet Size
                        return;
                    }
                    budget[0] -= size;
                    ctx.write(MqttEncoder.publish(ctx.alloc(), version, topic, r.payload(), 0, true, false, 0,
                            properties), ctx.voidPromise());
                });
                if (looked >= maxLooks) {
                    skipped[0]++; // cut short: what its look did not reach is skipped, counted once
                }
            }
        }
        for (int k = 0; k < skipped[0]; k++) {
            refused(Refusal.TOPIC_QUEUE_FULL);
        }
        // The look through the retained topics is the client's doing: a frame of its budget per 256 topics looked at
        // ('+/x' looks at all of them, whatever matches), or one client made its loop look at 100,000 topics at
        // every SUBSCRIBE, thousands a second.
        countFrames((int) Math.min(Integer.MAX_VALUE, looked / RETAINED_TOPICS_PER_FRAME));
    }

    /** Retained topics looked at after a SUBSCRIBE that cost the client one frame of its budget. */
    static final int RETAINED_TOPICS_PER_FRAME = 256;

    private void unsubscribe(Unsubscribe u) {
        int[] codes = new int[u.filters().size()];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = session().unsubscribe(u.filters().get(i)) ? MqttReasonCodes.SUCCESS
                    : MqttReasonCodes.NO_SUBSCRIPTION_EXISTED;
        }
        ctx.write(MqttEncoder.unsuback(ctx.alloc(), version, u.packetId(), codes), ctx.voidPromise());
    }
}
