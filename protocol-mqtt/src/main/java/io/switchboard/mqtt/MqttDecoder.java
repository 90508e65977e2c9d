package io.switchboard.mqtt;

import static io.switchboard.mqtt.MqttReasonCodes.MALFORMED_PACKET;
import static io.switchboard.mqtt.MqttReasonCodes.PACKET_TOO_LARGE;
import static io.switchboard.mqtt.MqttReasonCodes.PROTOCOL_ERROR;
import static io.switchboard.mqtt.MqttReasonCodes.UNSUPPORTED_PROTOCOL_VERSION;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the packets a client sends, MQTT 3.1, 3.1.1 and 5, from complete packets in a buffer the caller owns:
 * first {@link #packetLength} says whether a whole packet is there, then {@link #decode} reads exactly it. Keeps no
 * state between calls, so a connection's partial packet costs nothing but its bytes, and one decoder serves every
 * connection from any thread. Every violation of the specification that one packet shows is an
 * {@link MqttMalformed} with the reason MQTT 5 gives it; what needs the connection's state (a topic alias above the
 * maximum, a packet id in use, AUTH without an authentication method in the CONNECT) is the caller's to check.
 * Nothing else is thrown for any bytes.
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

    /** The longest packet MQTT can frame: a 4-byte remaining length of 268,435,455 and the fixed header. */
    public static final int MAX_PACKET_BYTES = 1 + 4 + 268_435_455;

    /** The MQTT 5 reason codes each acknowledgement may carry (MQTT 5 sections 3.4.2.1 to 3.15.2.1), as bit sets. */
    private static final long[] PUBACK_REASONS = bits(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99);
    private static final long[] PUBREL_REASONS = bits(0x00, 0x92);
    private static final long[] DISCONNECT_REASONS = bits(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
            0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1,
            0xA2);
    private static final long[] AUTH_REASONS = bits(0x00, 0x18, 0x19);

    /** {@link #remainingLength} when not all of it is there yet, or when it is longer than MQTT allows. */
    private static final long INCOMPLETE = -1;
    private static final long TOO_LONG = -2;

    private MqttDecoder() {
    }

    /**
     * The length in bytes of the first packet at the reader index (fixed header included) once all of it is
     * readable, or -1 while more bytes are needed. Does not move the reader index.
     *
     * @param maxPacketBytes the largest packet accepted, fixed header included
     * @throws MqttMalformed a remaining length longer than 4 bytes (0x81), or a packet longer than
     *                       {@code maxPacketBytes} (0x95), known as soon as its remaining length is there
     */
    public static int packetLength(ByteBuf buf, int maxPacketBytes) throws MqttMalformed {
        long r = remainingLength(buf, buf.readerIndex(), buf.readableBytes());
        if (r == TOO_LONG) {
            throw new MqttMalformed(MALFORMED_PACKET, "a remaining length longer than 4 bytes");
        }
        if (r == INCOMPLETE) {
            return -1;
        }
        int total = 1 + (int) (r >>> 32) + (int) r;
        if (total > maxPacketBytes) {
            throw new MqttMalformed(PACKET_TOO_LARGE, "a packet of " + total + " bytes, more than " + maxPacketBytes);
        }
        return total <= buf.readableBytes() ? total : -1;
    }

    /**
     * The remaining length of the packet at {@code start} and the bytes it takes, as {@code bytes << 32 | value}, when
     * it is within the first {@code available} bytes; else {@link #INCOMPLETE}, or {@link #TOO_LONG} after 4 bytes.
     */
    private static long remainingLength(ByteBuf buf, int start, int available) {
        int value = 0;
        for (int i = 1; i <= 4; i++) {
            if (i >= available) {
                return INCOMPLETE;
            }
            int digit = buf.getUnsignedByte(start + i);
            value |= (digit & 0x7F) << (7 * (i - 1));
            if ((digit & 0x80) == 0) {
                return (long) i << 32 | value;
            }
        }
        return TOO_LONG;
    }

    /**
     * Decodes the complete packet of {@code length} bytes at the reader index (as {@link #packetLength} gave it) and
     * moves the reader index past it, also when it is malformed. Reads nothing beyond it.
     *
     * @param version the connection's protocol level: 0 before its CONNECT (then only CONNECT is accepted, and tells
     *                the level), else {@link Connect#version()}
     * @throws MqttMalformed            the packet breaks the specification: its reason is the MQTT 5 reason code for
     *                                  the CONNACK or DISCONNECT that says so
     * @throws IllegalArgumentException {@code length} is not the length of the packet at the reader index
     */
    public static MqttPacket decode(ByteBuf buf, int length, int version) throws MqttMalformed {
        int start = buf.readerIndex();
        int header = headerLength(buf, start, length);
        int end = start + length;
        try {
            int type = buf.getUnsignedByte(start) >> 4;
            int flags = buf.getUnsignedByte(start) & 0x0F;
            buf.readerIndex(start + header);
            FieldReader r = new FieldReader(buf, end);
            if (version == 0 && type != CONNECT) {
                throw new MqttMalformed(PROTOCOL_ERROR, "the first packet must be CONNECT, not type " + type);
            }
            boolean v5 = version == MqttVersion.V5;
            if (version == MqttVersion.V31 && (type == PUBREL || type == SUBSCRIBE || type == UNSUBSCRIBE)) {
                // MQTT 3.1 sets DUP on these when it sends them again (3.1.1 fixed their flags at 0010): refused, a
                // client with a persistent session sent them again at every reconnect, closed each time.
                flags &= ~0x08;
            }
            MqttPacket p = switch (type) {
                case CONNECT -> connect(r, flags, version);
                case PUBLISH -> publish(r, flags, v5);
                case PUBACK -> new PubAck(packetId(r, flags, 0, "PUBACK"), ackReason(r, v5, PUBACK_REASONS, "PUBACK"));
                case PUBREC -> new PubRec(packetId(r, flags, 0, "PUBREC"), ackReason(r, v5, PUBACK_REASONS, "PUBREC"));
                case PUBREL -> new PubRel(packetId(r, flags, 2, "PUBREL"), ackReason(r, v5, PUBREL_REASONS, "PUBREL"));
                case PUBCOMP -> new PubComp(packetId(r, flags, 0, "PUBCOMP"),
                        ackReason(r, v5, PUBREL_REASONS, "PUBCOMP"));
                case SUBSCRIBE -> subscribe(r, flags, v5);
                case UNSUBSCRIBE -> unsubscribe(r, flags, v5);
                case PINGREQ -> {
                    flags(flags, 0, "PINGREQ");
                    yield PingReq.INSTANCE;
                }
                case DISCONNECT -> disconnect(r, flags, v5);
                case AUTH -> auth(r, flags, v5);
                case 0 -> throw new MqttMalformed(MALFORMED_PACKET, "packet type 0 is reserved");
                default -> throw new MqttMalformed(PROTOCOL_ERROR, "packet type " + type + " is not sent by clients");
            };
            if (r.remaining() != 0) {
                throw new MqttMalformed(MALFORMED_PACKET, p.getClass().getSimpleName().toUpperCase() + " has "
                        + r.remaining() + " bytes after its fields");
            }
            return p;
        } finally {
            buf.readerIndex(end);
        }
    }

    /** The length of the fixed header of the packet of {@code length} bytes at {@code start}, checked. */
    private static int headerLength(ByteBuf buf, int start, int length) {
        long r = length >= 2 && buf.writerIndex() - start >= length ? remainingLength(buf, start, length) : INCOMPLETE;
        int header = 1 + (int) (r >>> 32);
        if (r < 0 || header + (int) r != length) {
            throw new IllegalArgumentException("no packet of " + length + " bytes at index " + start
                    + " (packetLength says how long it is)");
        }
        return header;
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
        if (!protocol.equals("MQTT") && !protocol.equals("MQIsdp")) {
            throw new MqttMalformed(MALFORMED_PACKET, "protocol name " + quote(protocol) + " is not MQTT");
        }
        if (protocol.equals("MQTT") ? version != MqttVersion.V311 && version != MqttVersion.V5
                : version != MqttVersion.V31) {
            throw new MqttMalformed(UNSUPPORTED_PROTOCOL_VERSION, "protocol level " + version + " of " + protocol
                    + " is not 3.1 (MQIsdp), 3.1.1 or 5 (MQTT)");
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
            throw new MqttMalformed(MALFORMED_PACKET, "a password without a user name (before MQTT 5)");
        }
        int keepAlive = r.u16("keep alive");
        Properties props = v5 ? Properties.read(r, Properties.CONNECT, "CONNECT") : Properties.NONE;
        if (props.has(Properties.AUTH_DATA) && !props.has(Properties.AUTH_METHOD)) {
            throw new MqttMalformed(PROTOCOL_ERROR, "authentication data without an authentication method");
        }
        String clientId = r.utf8("client id");
        Will will = null;
        if (hasWill) {
            Properties wp = v5 ? Properties.read(r, Properties.WILL, "will") : Properties.NONE;
            String topic = r.utf8("will topic");
            if (!MqttTopics.validTopicName(topic)) {
                throw new MqttMalformed(MqttReasonCodes.TOPIC_NAME_INVALID, "will topic " + quote(topic)
                        + " is empty or has wildcards");
            }
            will = new Will(topic, r.binary("will payload"), willQos, willRetain,
                    wp.number(Properties.WILL_DELAY, 0), PublishProperties.of(wp));
        }
        String username = hasUsername ? r.utf8("user name") : null;
        byte[] password = hasPassword ? r.binary("password") : null;
        return new Connect(version, clientId, cleanStart, keepAlive, username, password, will,
                props.number(Properties.SESSION_EXPIRY, 0), (int) props.number(Properties.RECEIVE_MAXIMUM, 65535),
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
        if (topic.isEmpty() ? alias == 0 : !MqttTopics.validTopicName(topic)) {
            throw new MqttMalformed(MqttReasonCodes.TOPIC_NAME_INVALID, "topic name " + quote(topic)
                    + (topic.isEmpty() ? " without a topic alias" : " has wildcards"));
        }
        Integer format = props.has(Properties.PAYLOAD_FORMAT)
                ? (int) props.number(Properties.PAYLOAD_FORMAT, 0) : null;
        return new Publish(topic, r.rest(), qos, retain, dup, packetId, alias,
                props.number(Properties.MESSAGE_EXPIRY, -1), props.user(), props.string(Properties.CONTENT_TYPE),
                props.string(Properties.RESPONSE_TOPIC), props.binary(Properties.CORRELATION_DATA), format);
    }

    /** The fixed-header flags and the packet id of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE. */
    private static int packetId(FieldReader r, int flags, int expectedFlags, String packet) throws MqttMalformed {
        flags(flags, expectedFlags, packet);
        int packetId = r.u16("packet id");
        if (packetId == 0) {
            throw new MqttMalformed(MALFORMED_PACKET, packet + " with packet id 0");
        }
        return packetId;
    }

    /** The reason code after the packet id of a v5 acknowledgement, and its properties: 0 in the short forms. */
    private static int ackReason(FieldReader r, boolean v5, long[] allowed, String packet) throws MqttMalformed {
        if (!v5 || r.remaining() == 0) {
            return 0;
        }
        int reason = reason(r, allowed, packet);
        if (r.remaining() > 0) {
            Properties.read(r, Properties.ACK, packet);
        }
        return reason;
    }

    private static int reason(FieldReader r, long[] allowed, String packet) throws MqttMalformed {
        int reason = r.u8(packet + " reason code");
        if ((allowed[reason >> 6] & (1L << reason)) == 0) {
            throw new MqttMalformed(PROTOCOL_ERROR, packet + " reason code 0x" + Integer.toHexString(reason)
                    + " is not one of its own");
        }
        return reason;
    }

    private static Subscribe subscribe(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        int packetId = packetId(r, flags, 2, "SUBSCRIBE");
        Properties props = v5 ? Properties.read(r, Properties.SUBSCRIBE, "SUBSCRIBE") : Properties.NONE;
        List<Subscription> subs = new ArrayList<>(1);
        while (r.remaining() > 0) {
            String filter = filter(r);
            int options = r.u8("subscription options");
            int qos = options & 3;
            boolean noLocal = (options & 0x04) != 0;
            int retainHandling = (options >> 4) & 3;
            if ((options & (v5 ? 0xC0 : 0xFC)) != 0 || (!v5 && qos == 3)) {
                throw new MqttMalformed(MALFORMED_PACKET, "subscription options 0x" + Integer.toHexString(options)
                        + " with reserved bits set" + (v5 ? "" : " or QoS 3"));
            }
            if (qos == 3 || retainHandling == 3) {
                throw new MqttMalformed(PROTOCOL_ERROR, "subscription options 0x" + Integer.toHexString(options)
                        + " with QoS 3 or retain handling 3");
            }
            if (noLocal && filter.startsWith("$share/")) {
                throw new MqttMalformed(PROTOCOL_ERROR, "no local on a shared subscription");
            }
            subs.add(new Subscription(filter, qos, noLocal, (options & 0x08) != 0, retainHandling));
        }
        if (subs.isEmpty()) {
            throw new MqttMalformed(PROTOCOL_ERROR, "SUBSCRIBE without a topic filter");
        }
        return new Subscribe(packetId, List.copyOf(subs), (int) props.number(Properties.SUBSCRIPTION_ID, 0),
                props.user());
    }

    private static Unsubscribe unsubscribe(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        int packetId = packetId(r, flags, 2, "UNSUBSCRIBE");
        Properties props = v5 ? Properties.read(r, Properties.UNSUBSCRIBE, "UNSUBSCRIBE") : Properties.NONE;
        List<String> filters = new ArrayList<>(1);
        while (r.remaining() > 0) {
            filters.add(filter(r));
        }
        if (filters.isEmpty()) {
            throw new MqttMalformed(PROTOCOL_ERROR, "UNSUBSCRIBE without a topic filter");
        }
        return new Unsubscribe(packetId, List.copyOf(filters), props.user());
    }

    private static String filter(FieldReader r) throws MqttMalformed {
        String filter = r.utf8("topic filter");
        if (!MqttTopics.validFilter(filter)) {
            throw new MqttMalformed(MALFORMED_PACKET, "topic filter " + quote(filter) + " is not valid");
        }
        return filter;
    }

    private static Disconnect disconnect(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        flags(flags, 0, "DISCONNECT");
        if (!v5 || r.remaining() == 0) {
            return Disconnect.NORMAL;
        }
        int reason = reason(r, DISCONNECT_REASONS, "DISCONNECT");
        Properties props = r.remaining() > 0 ? Properties.read(r, Properties.DISCONNECT, "DISCONNECT")
                : Properties.NONE;
        return new Disconnect(reason, props.number(Properties.SESSION_EXPIRY, -1),
                props.string(Properties.REASON_STRING));
    }

    private static Auth auth(FieldReader r, int flags, boolean v5) throws MqttMalformed {
        if (!v5) {
            throw new MqttMalformed(MALFORMED_PACKET, "packet type 15 is reserved before MQTT 5");
        }
        flags(flags, 0, "AUTH");
        if (r.remaining() == 0) {
            return new Auth(0, null, null);
        }
        int reason = reason(r, AUTH_REASONS, "AUTH");
        Properties props = r.remaining() > 0 ? Properties.read(r, Properties.AUTH, "AUTH") : Properties.NONE;
        if (!props.has(Properties.AUTH_METHOD)) {
            throw new MqttMalformed(PROTOCOL_ERROR, "AUTH without an authentication method");
        }
        return new Auth(reason, props.string(Properties.AUTH_METHOD), props.binary(Properties.AUTH_DATA));
    }

    /** A client's string for a message: quoted, and cut short. */
    private static String quote(String s) {
        return "'" + (s.length() <= 64 ? s : s.substring(0, 64) + "...") + "'";
    }

    private static long[] bits(int... codes) {
        long[] set = new long[4];
        for (int c : codes) {
            set[c >> 6] |= 1L << c;
        }
        return set;
    }
}
