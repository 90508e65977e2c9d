package io.switchboard.mqtt;

import static io.switchboard.mqtt.MqttReasonCodes.MALFORMED_PACKET;
import static io.switchboard.mqtt.MqttReasonCodes.PACKET_TOO_LARGE;
import static io.switchboard.mqtt.MqttReasonCodes.PROTOCOL_ERROR;
import static io.switchboard.mqtt.MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the packets a client sends, MQTT 3.1.1 and 5, from complete packets in a buffer the caller owns: first
 * {@link #packetLength} says whether a whole packet is there, then {@link #decode} reads exactly it. Keeps no state
 * between calls, so one connection's partial packet costs nothing but its bytes. Every violation of the
 * specification it can see in one packet is an {@link MqttMalformed} with the reason MQTT 5 gives it. Stateless.
 */
public final class MqttDecoder {
    static final int CONNECT = 1;
    static final int PUBLISH = 3;
    static final int PUBACK = 4;
    static final int PUBREC = 5;
    static final int PUBREL = 6;
    static final int PUBCOMP = 7;
    static final int SUBSCRIBE = 8;
    static final int UNSUBSCRIBE = 10;
    static final int PINGREQ = 12;
    static final int DISCONNECT = 14;
    static final int AUTH = 15;

    private MqttDecoder() {
    }

    /**
     * The length of the first complete packet at the reader index (fixed header included), or -1 when more bytes
     * are needed; does not move the reader index.
     *
     * @throws MqttMalformed a remaining length of more than 4 bytes, or a packet longer than {@code maxPacketBytes}
     */
    public static int packetLength(ByteBuf buf, int maxPacketBytes) throws MqttMalformed {
        int start = buf.readerIndex();
        int readable = buf.readableBytes();
        int length = 0;
        for (int i = 1; i <= 4; i++) {
            if (i >= readable) {
                return -1;
            }
            int digit = buf.getUnsignedByte(start + i);
            length |= (digit & 0x7F) << (7 * (i - 1));
            if ((digit & 0x80) == 0) {
                long total = 1L + i + length;
                if (total > maxPacketBytes) {
                    throw new MqttMalformed(PACKET_TOO_LARGE, "a packet of " + total + " bytes, more than "
                            + maxPacketBytes);
                }
                return total <= readable ? (int) total : -1;
            }
        }
        throw new MqttMalformed(MALFORMED_PACKET, "a remaining length longer than 4 bytes");
    }

    /**
     * Decodes the complete packet of {@code length} bytes at the reader index and moves past it (also when it is
     * malformed).
     *
     * @param version the connection's protocol level, 0 before its CONNECT (then only CONNECT is accepted)
     */
    public static MqttPacket decode(ByteBuf buf, int length, int version) throws MqttMalformed {
        int end = buf.readerIndex() + length;
        try {
            int header = buf.readUnsignedByte();
            while ((buf.readUnsignedByte() & 0x80) != 0) {
                // the remaining length, already known
            }
            FieldReader r = new FieldReader(buf, end);
            int type = header >> 4;
            int flags = header & 0x0F;
            if (version == 0 && type != CONNECT) {
                throw new MqttMalformed(PROTOCOL_ERROR, "the first packet must be CONNECT");
            }
            boolean v5 = version == MqttVersion.V5;
            MqttPacket p = switch (type) {
                case CONNECT -> connect(r, flags, version);
                case PUBLISH -> publish(r, flags, v5);
                case PUBACK -> {
                    int[] a = ack(r, flags, 0, v5, "PUBACK");
                    yield new PubAck(a[0], a[1]);
                }
                case PUBREC -> {
                    int[] a = ack(r, flags, 0, v5, "PUBREC");
                    yield new PubRec(a[0], a[1]);
                }
                case PUBREL -> {
                    int[] a = ack(r, flags, 2, v5, "PUBREL");
                    yield new PubRel(a[0], a[1]);
                }
                case PUBCOMP -> {
                    int[] a = ack(r, flags, 0, v5, "PUBCOMP");
                    yield new PubComp(a[0], a[1]);
                }
                case SUBSCRIBE -> subscribe(r, flags, v5);
                case UNSUBSCRIBE -> unsubscribe(r, flags, v5);
                case PINGREQ -> {
                    flags(flags, 0, "PINGREQ");
                    yield new PingReq();
                }
                case DISCONNECT -> disconnect(r, flags, v5);
                case AUTH -> auth(r, flags, v5);
                default -> throw new MqttMalformed(PROTOCOL_ERROR, "packet type " + type + " is not sent by clients");
            };
            if (r.remaining() != 0) {
                throw new MqttMalformed(MALFORMED_PACKET, p.getClass().getSimpleName().toUpperCase()
                        + " has " + r.remaining() + " bytes after its fields");
            }
            return p;
        } catch (IndexOutOfBoundsException e) {
            throw new MqttMalformed(MALFORMED_PACKET, "a packet shorter than its header says");
        } finally {
            buf.readerIndex(end);
        }
    }

    private static void flags(int flags, int expected, String packet) throws MqttMalformed {
        if (flags != expected) {
            throw new MqttMalformed(MALFORMED_PACKET, packet + " with fixed-header flags " + flags + ", not "
                    + expected);
        }
    }

    private static Connect connect(FieldReader r, int flags, int connectionVersion) throws MqttMalformed {
        if (connectionVersion != 0) {
            throw new MqttMalformed(PROTOCOL_ERROR, "a second CONNECT");
        }
        flags(flags, 0, "CONNECT");
        String protocol = r.utf8("protocol name");
        int version = r.u8("protocol level");
        boolean known = (protocol.equals("MQTT") && (version == MqttVersion.V311 || version == MqttVersion.V5))
                || (protocol.equals("MQIsdp") && version == MqttVersion.V31);
        if (!protocol.equals("MQTT") && !protocol.equals("MQIsdp")) {
            throw new MqttMalformed(MALFORMED_PACKET, "protocol name '" + protocol + "' is not MQTT");
        }
        if (!known) {
            throw new MqttMalformed(UNSUPPORTED_PROTOCOL_VERSION, "protocol level " + version + " is not 3.1, 3.1.1"
                    + " or 5");
        }
        boolean v5 = version == MqttVersion.V5;
        int connectFlags = r.u8("connect flags");
        if ((connectFlags & 0x01) != 0) {
            throw new MqttMalformed(MALFORMED_PACKET, "the reserved connect flag is set");
        }
        boolean cleanStart = (connectFlags & 0x02) != 0;
        boolean hasWill = (connectFlags & 0x04) != 0;
        int willQos = (connectFlags >> 3) & 3;
        boolean willRetain = (connectFlags & 0x20) != 0;
        boolean hasPassword = (connectFlags & 0x40) != 0;
        boolean hasUsername = (connectFlags & 0x80) != 0;
        if (willQos == 3 || (!hasWill && (willQos != 0 || willRetain))) {
            throw new MqttMalformed(MALFORMED_PACKET, "will QoS or retain flags without a will, or will QoS 3");
        }
        if (!v5 && hasPassword && !hasUsername) {
            throw new MqttMalformed(MALFORMED_PACKET, "a password without a user name (3.1.1)");
        }
        int keepAlive = r.u16("keep alive");
        Properties props = v5 ? Properties.read(r, Properties.CONNECT, "CONNECT") : Properties.NONE;
        String clientId = r.utf8("client id");
        Will will = null;
        if (hasWill) {
            Properties wp = v5 ? Properties.read(r, Properties.WILL, "will") : Properties.NONE;
            String topic = r.utf8("will topic");
            if (!MqttTopics.validTopicName(topic)) {
                throw new MqttMalformed(MqttReasonCodes.TOPIC_NAME_INVALID, "will topic '" + topic
                        + "' is empty or has wildcards");
            }
            will = new Will(topic, r.binary("will payload"), willQos, willRetain,
                    wp.number(Properties.WILL_DELAY, 0), wp.user());
        }
        String username = hasUsername ? r.utf8("user name") : null;
        byte[] password = hasPassword ? r.binary("password") : null;
        if (props.has(Properties.RECEIVE_MAXIMUM) && props.number(Properties.RECEIVE_MAXIMUM, 0) == 0) {
            throw new MqttMalformed(PROTOCOL_ERROR, "receive maximum 0");
        }
        if (props.has(Properties.MAXIMUM_PACKET_SIZE) && props.number(Properties.MAXIMUM_PACKET_SIZE, 0) == 0) {
            throw new MqttMalformed(PROTOCOL_ERROR, "maximum packet size 0");
        }
        return new Connect(version == MqttVersion.V31 ? MqttVersion.V311 : version, clientId, cleanStart, keepAlive,
                username, password, will, props.number(Properties.SESSION_EXPIRY, 0),
                (int) props.number(Properties.RECEIVE_MAXIMUM, 65535),
                props.number(Properties.MAXIMUM_PACKET_SIZE, 0), (int) props.number(Properties.TOPIC_ALIAS_MAXIMUM, 0),
                props.number(Properties.REQUEST_PROBLEM_INFO, 1) != 0, props.user(),
                props.string(Properties.AUTH_METHOD));
    }

    private static Publish publish(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        int qos = (flags >> 1) & 3;
        boolean dup = (flags & 0x08) != 0;
        boolean retain = (flags & 0x01) != 0;
        if (qos == 3) {
            throw new MqttMalformed(MALFORMED_PACKET, "PUBLISH with QoS 3");
        }
        if (qos == 0 && dup) {
            throw new MqttMalformed(MALFORMED_PACKET, "PUBLISH QoS 0 with DUP");
        }
        String topic = r.utf8("topic name");
        int packetId = 0;
        if (qos > 0) {
            packetId = r.u16("packet id");
            if (packetId == 0) {
                throw new MqttMalformed(MALFORMED_PACKET, "PUBLISH QoS " + qos + " with packet id 0");
            }
        }
        Properties props = v5 ? Properties.read(r, Properties.PUBLISH, "PUBLISH") : Properties.NONE;
        int alias = (int) props.number(Properties.TOPIC_ALIAS, 0);
        if (props.has(Properties.TOPIC_ALIAS) && alias == 0) {
            throw new MqttMalformed(MqttReasonCodes.TOPIC_ALIAS_INVALID, "topic alias 0");
        }
        if (topic.isEmpty() ? alias == 0 : !MqttTopics.validTopicName(topic)) {
            throw new MqttMalformed(MqttReasonCodes.TOPIC_NAME_INVALID, "topic name '" + topic
                    + "' is empty or has wildcards");
        }
        Integer format = props.has(Properties.PAYLOAD_FORMAT)
                ? (int) props.number(Properties.PAYLOAD_FORMAT, 0) : null;
        return new Publish(topic, r.rest(), qos, retain, dup, packetId, alias,
                props.number(Properties.MESSAGE_EXPIRY, -1), props.user(), props.string(Properties.CONTENT_TYPE),
                props.string(Properties.RESPONSE_TOPIC), props.binary(Properties.CORRELATION_DATA), format);
    }

    /** Packet id and reason code of PUBACK, PUBREC, PUBREL, PUBCOMP. */
    private static int[] ack(FieldReader r, int flags, int expectedFlags, boolean v5, String packet)
            throws MqttMalformed {
        flags(flags, expectedFlags, packet);
        int packetId = packetId(r, packet);
        int reason = 0;
        if (v5 && r.remaining() > 0) {
            reason = r.u8("reason code");
            if (r.remaining() > 0) {
                Properties.read(r, Properties.ACK, packet);
            }
        }
        return new int[] {packetId, reason};
    }

    /** A packet id, which must not be 0. */
    private static int packetId(FieldReader r, String packet) throws MqttMalformed {
        int packetId = r.u16("packet id");
        if (packetId == 0) {
            throw new MqttMalformed(MALFORMED_PACKET, packet + " with packet id 0");
        }
        return packetId;
    }

    private static Subscribe subscribe(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        flags(flags, 2, "SUBSCRIBE");
        int packetId = packetId(r, "SUBSCRIBE");
        Properties props = v5 ? Properties.read(r, Properties.SUBSCRIBE, "SUBSCRIBE") : Properties.NONE;
        List<Subscription> subs = new ArrayList<>(1);
        while (r.remaining() > 0) {
            String filter = r.utf8("topic filter");
            int options = r.u8("subscription options");
            if ((options & (v5 ? 0xC0 : 0xFC)) != 0 || (options & 3) == 3 || ((options >> 4) & 3) == 3) {
                throw new MqttMalformed(MALFORMED_PACKET, "subscription options 0x" + Integer.toHexString(options));
            }
            if (!MqttTopics.validFilter(filter)) {
                throw new MqttMalformed(MALFORMED_PACKET, "topic filter '" + filter + "' is not valid");
            }
            subs.add(new Subscription(filter, options & 3, (options & 4) != 0, (options & 8) != 0,
                    (options >> 4) & 3));
        }
        if (subs.isEmpty()) {
            throw new MqttMalformed(PROTOCOL_ERROR, "SUBSCRIBE without a topic filter");
        }
        return new Subscribe(packetId, List.copyOf(subs), (int) props.number(Properties.SUBSCRIPTION_ID, 0),
                props.user());
    }

    private static Unsubscribe unsubscribe(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        flags(flags, 2, "UNSUBSCRIBE");
        int packetId = packetId(r, "UNSUBSCRIBE");
        Properties props = v5 ? Properties.read(r, Properties.UNSUBSCRIBE, "UNSUBSCRIBE") : Properties.NONE;
        List<String> filters = new ArrayList<>(1);
        while (r.remaining() > 0) {
            String filter = r.utf8("topic filter");
            if (!MqttTopics.validFilter(filter)) {
                throw new MqttMalformed(MALFORMED_PACKET, "topic filter '" + filter + "' is not valid");
            }
            filters.add(filter);
        }
        if (filters.isEmpty()) {
            throw new MqttMalformed(PROTOCOL_ERROR, "UNSUBSCRIBE without a topic filter");
        }
        return new Unsubscribe(packetId, List.copyOf(filters), props.user());
    }

    private static Disconnect disconnect(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        flags(flags, 0, "DISCONNECT");
        if (!v5 || r.remaining() == 0) {
            return new Disconnect(0, -1, null);
        }
        int reason = r.u8("reason code");
        Properties props = r.remaining() > 0 ? Properties.read(r, Properties.DISCONNECT, "DISCONNECT")
                : Properties.NONE;
        return new Disconnect(reason, props.number(Properties.SESSION_EXPIRY, -1),
                props.string(Properties.REASON_STRING));
    }

    private static Auth auth(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        if (!v5) {
            throw new MqttMalformed(PROTOCOL_ERROR, "AUTH is MQTT 5 only");
        }
        flags(flags, 0, "AUTH");
        if (r.remaining() == 0) {
            return new Auth(0, null, null);
        }
        int reason = r.u8("reason code");
        Properties props = r.remaining() > 0 ? Properties.read(r, Properties.AUTH, "AUTH") : Properties.NONE;
        return new Auth(reason, props.string(Properties.AUTH_METHOD), props.binary(Properties.AUTH_DATA));
    }
}
