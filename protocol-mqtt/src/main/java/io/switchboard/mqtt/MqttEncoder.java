package io.switchboard.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.util.List;

/**
 * Encodes the packets a server sends, MQTT 3.1, 3.1.1 and 5: each into one buffer of its exact size from the
 * caller's allocator ({@link ByteBufAllocator#ioBuffer(int)}), strings written straight into it without an
 * intermediate array; the caller owns (and writes or releases) the buffer. {@code version} is the connection's
 * protocol level, {@link Connect#version()}: everything but {@link MqttVersion#V5} is encoded as 3.1.1. Arguments
 * that no client could read (a QoS above 2, a packet id of 0 at QoS 1, a topic with wildcards, a string of more than
 * 65535 bytes) are an {@link IllegalArgumentException}; a reason string is cut short instead. Stateless.
 */
public final class MqttEncoder {
    static final int MAX_STRING_BYTES = 65_535;
    static final int MAX_REMAINING_LENGTH = 268_435_455;

    private static final int CONNACK = 0x20;
    private static final int PUBLISH = 0x30;
    private static final int PUBACK = 0x40;
    private static final int PUBREC = 0x50;
    private static final int PUBREL = 0x62;
    private static final int PUBCOMP = 0x70;
    private static final int SUBACK = 0x90;
    private static final int UNSUBACK = 0xB0;
    private static final int PINGRESP = 0xD0;
    private static final int DISCONNECT = 0xE0;
    private static final int[] NO_CODES = {};

    private MqttEncoder() {
    }

    /**
     * CONNACK: {@code 20 02 <session present> <code>} in 3.1.1, then v5's properties ({@code props}, null for none;
     * ignored before v5). Session present is only set on success, and never for 3.1 (which has no such flag).
     *
     * @param reasonCode v5: the reason code; 3.1.1: the return code ({@link MqttReasonCodes#connackCodeFor})
     */
    public static ByteBuf connack(ByteBufAllocator alloc, int version, boolean sessionPresent, int reasonCode,
                                  ConnackProperties props) {
        boolean v5 = version == MqttVersion.V5;
        int propertyLength = v5 && props != null ? connackProperties(null, props) : 0;
        int remaining = 2 + (v5 ? varintSize(propertyLength) + propertyLength : 0);
        ByteBuf b = fixedHeader(alloc, CONNACK, remaining, 0);
        b.writeByte(sessionPresent && reasonCode == 0 && version != MqttVersion.V31 ? 1 : 0).writeByte(reasonCode);
        if (v5) {
            varint(b, propertyLength);
            if (props != null) {
                connackProperties(b, props);
            }
        }
        return b;
    }

    /**
     * PUBLISH to a client, payload included, in one buffer.
     *
     * @param topic          a valid topic name ({@link MqttTopics#validTopicName})
     * @param qos            0, 1 or 2
     * @param packetId       1 to 65535 at QoS 1 and 2; ignored at QoS 0
     * @param userProperties v5 only (ignored before), may be empty
     */
    public static ByteBuf publish(ByteBufAllocator alloc, int version, String topic, byte[] payload, int qos,
                                  boolean retain, boolean dup, int packetId, List<UserProperty> userProperties) {
        return publish(alloc, version, topic, payload, qos, retain, dup, packetId,
                PublishProperties.user(userProperties));
    }

    /** As above, with every v5 message property (left out in 3.1.1). */
    public static ByteBuf publish(ByteBufAllocator alloc, int version, String topic, byte[] payload, int qos,
                                  boolean retain, boolean dup, int packetId, PublishProperties properties) {
        return publish(alloc, version, topic, payload.length, true, qos, retain, dup, packetId, properties)
                .writeBytes(payload);
    }

    /**
     * A PUBLISH without its payload: the fixed header (whose remaining length counts {@code payloadLength} bytes
     * more), the topic, the packet id and v5's properties. The caller writes the payload after it, e.g. as a
     * retained slice of a buffer many connections share, so a large push is not copied per connection. Arguments
     * as {@link #publish}.
     */
    public static ByteBuf publishHeaderOnly(ByteBufAllocator alloc, int version, String topic, int payloadLength,
                                            int qos, boolean retain, boolean dup, int packetId,
                                            List<UserProperty> userProperties) {
        return publish(alloc, version, topic, payloadLength, false, qos, retain, dup, packetId,
                PublishProperties.user(userProperties));
    }

    private static ByteBuf publish(ByteBufAllocator alloc, int version, String topic, int payloadLength,
                                   boolean roomForPayload, int qos, boolean retain, boolean dup, int packetId,
                                   PublishProperties properties) {
        if (qos < 0 || qos > 2 || (qos > 0 && (packetId < 1 || packetId > 0xFFFF)) || payloadLength < 0) {
            throw new IllegalArgumentException("PUBLISH QoS " + qos + " packet id " + packetId + " payload "
                    + payloadLength);
        }
        if (!MqttTopics.validTopicName(topic)) {
            throw new IllegalArgumentException("not a topic name: '" + topic + "'");
        }
        boolean v5 = version == MqttVersion.V5;
        int topicBytes = utf8Bytes(topic);
        int propertyLength = v5 ? publishProperties(null, properties) : 0;
        long remaining = publishRemaining(v5, topicBytes, qos, propertyLength, payloadLength);
        if (remaining > MAX_REMAINING_LENGTH) {
            throw new IllegalArgumentException("a PUBLISH of " + remaining + " bytes is longer than MQTT allows");
        }
        ByteBuf b = fixedHeader(alloc, PUBLISH | (dup ? 0x08 : 0) | qos << 1 | (retain ? 1 : 0), (int) remaining,
                roomForPayload ? 0 : payloadLength);
        writeString(b, topic, topicBytes);
        if (qos > 0) {
            b.writeShort(packetId);
        }
        if (v5) {
            varint(b, propertyLength);
            publishProperties(b, properties);
        }
        return b;
    }

    /** The remaining length of a PUBLISH of these parts. */
    private static long publishRemaining(boolean v5, int topicBytes, int qos, int propertyLength, int payloadLength) {
        return 2L + topicBytes + (qos > 0 ? 2 : 0) + (v5 ? varintSize(propertyLength) + propertyLength : 0)
                + payloadLength;
    }

    /**
     * The whole size of the PUBLISH {@link #publish} would encode from these arguments (fixed header included): what a
     * v5 client's Maximum Packet Size is compared with.
     */
    public static long publishBytes(int version, String topic, int payloadLength, int qos,
                                    List<UserProperty> userProperties) {
        return publishBytes(version, topic, payloadLength, qos, PublishProperties.user(userProperties));
    }

    /** As above, with every v5 message property. */
    public static long publishBytes(int version, String topic, int payloadLength, int qos,
                                    PublishProperties properties) {
        boolean v5 = version == MqttVersion.V5;
        int propertyLength = v5 ? publishProperties(null, properties) : 0;
        long remaining = publishRemaining(v5, utf8Bytes(topic), qos, propertyLength, payloadLength);
        return 1 + varintSize((int) Math.min(remaining, Integer.MAX_VALUE)) + remaining;
    }

    /** PUBACK; see {@link #pubcomp} for the forms. */
    public static ByteBuf puback(ByteBufAllocator alloc, int version, int packetId, int reasonCode) {
        return ack(alloc, PUBACK, version, packetId, reasonCode);
    }

    /** PUBREC; see {@link #pubcomp} for the forms. */
    public static ByteBuf pubrec(ByteBufAllocator alloc, int version, int packetId, int reasonCode) {
        return ack(alloc, PUBREC, version, packetId, reasonCode);
    }

    /** PUBREL (fixed-header flags 0010); see {@link #pubcomp} for the forms. */
    public static ByteBuf pubrel(ByteBufAllocator alloc, int version, int packetId, int reasonCode) {
        return ack(alloc, PUBREL, version, packetId, reasonCode);
    }

    /**
     * PUBCOMP: the packet id alone ({@code 70 02 <id>}) in 3.1.1, and in v5 for reason 0 (the short form); else the
     * packet id and v5's reason code, without properties ({@code 70 03 <id> <reason>}).
     */
    public static ByteBuf pubcomp(ByteBufAllocator alloc, int version, int packetId, int reasonCode) {
        return ack(alloc, PUBCOMP, version, packetId, reasonCode);
    }

    private static ByteBuf ack(ByteBufAllocator alloc, int header, int version, int packetId, int reasonCode) {
        boolean withReason = version == MqttVersion.V5 && reasonCode != 0;
        ByteBuf b = fixedHeader(alloc, header, withReason ? 3 : 2, 0).writeShort(packetId);
        return withReason ? b.writeByte(reasonCode) : b;
    }

    /**
     * SUBACK: one code per filter of the SUBSCRIBE, in order: the granted QoS (0, 1, 2) or a failure. v5 takes its
     * failure reasons (0x80 and above); 3.1.1 has one failure code, 0x80, which every failure becomes.
     */
    public static ByteBuf suback(ByteBufAllocator alloc, int version, int packetId, int[] reasonCodes) {
        return codes(alloc, SUBACK, version, packetId, reasonCodes);
    }

    /** UNSUBACK: v5 has a reason code per filter (0 success, 0x11 no subscription existed, ...); 3.1.1 none. */
    public static ByteBuf unsuback(ByteBufAllocator alloc, int version, int packetId, int[] reasonCodes) {
        return codes(alloc, UNSUBACK, version, packetId, version == MqttVersion.V5 ? reasonCodes : NO_CODES);
    }

    /** Packet id, v5's empty properties, one byte per code. */
    private static ByteBuf codes(ByteBufAllocator alloc, int header, int version, int packetId, int[] codes) {
        boolean v5 = version == MqttVersion.V5;
        ByteBuf b = fixedHeader(alloc, header, 2 + (v5 ? 1 : 0) + codes.length, 0).writeShort(packetId);
        if (v5) {
            b.writeByte(0);
        }
        for (int c : codes) {
            b.writeByte(v5 || c < 0x80 ? c : MqttReasonCodes.UNSPECIFIED_ERROR);
        }
        return b;
    }

    /** PINGRESP: {@code D0 00}. */
    public static ByteBuf pingresp(ByteBufAllocator alloc) {
        return fixedHeader(alloc, PINGRESP, 0, 0);
    }

    /**
     * A server DISCONNECT, MQTT 5 only: the short form {@code E0 00} for reason 0 without properties, else the reason
     * and the properties reason string (cut to 65535 bytes) and server reference (for 0x9C, 0x9D), each when not null.
     *
     * @throws IllegalArgumentException before MQTT 5, where a server has no DISCONNECT and just closes
     */
    public static ByteBuf disconnect(ByteBufAllocator alloc, int version, int reasonCode, String reasonString,
                                     String serverReference) {
        if (version != MqttVersion.V5) {
            throw new IllegalArgumentException("MQTT level " + version + " has no DISCONNECT from the server");
        }
        if (reasonCode == 0 && reasonString == null && serverReference == null) {
            return fixedHeader(alloc, DISCONNECT, 0, 0);
        }
        String reason = reasonString == null ? null : cut(reasonString);
        int propertyLength = stringProperty(null, Properties.REASON_STRING, reason)
                + stringProperty(null, Properties.SERVER_REFERENCE, serverReference);
        ByteBuf b = fixedHeader(alloc, DISCONNECT, 1 + varintSize(propertyLength) + propertyLength, 0);
        varint(b.writeByte(reasonCode), propertyLength);
        stringProperty(b, Properties.REASON_STRING, reason);
        stringProperty(b, Properties.SERVER_REFERENCE, serverReference);
        return b;
    }

    // ---- fields

    /** A buffer of exactly the packet's size (less {@code notWritten} bytes), its fixed header written. */
    private static ByteBuf fixedHeader(ByteBufAllocator alloc, int firstByte, int remaining, int notWritten) {
        ByteBuf b = alloc.ioBuffer(1 + varintSize(remaining) + remaining - notWritten);
        b.writeByte(firstByte);
        varint(b, remaining);
        return b;
    }

    static int varintSize(int n) {
        return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
    }

    static void varint(ByteBuf b, int n) {
        do {
            int digit = n & 0x7F;
            n >>>= 7;
            b.writeByte(n > 0 ? digit | 0x80 : digit);
        } while (n > 0);
    }

    /** The UTF-8 bytes of a string field, its two-byte length not included: at most 65535. */
    private static int utf8Bytes(String s) {
        int n = ByteBufUtil.utf8Bytes(s);
        if (n > MAX_STRING_BYTES) {
            throw new IllegalArgumentException("a string of " + n + " bytes, more than MQTT's 65535");
        }
        return n;
    }

    private static void writeString(ByteBuf b, String s) {
        writeString(b, s, ByteBufUtil.utf8Bytes(s));
    }

    /** Length and UTF-8 of {@code s}, which takes {@code n} bytes (reserved exactly: the buffer does not grow). */
    private static void writeString(ByteBuf b, String s, int n) {
        b.writeShort(n);
        ByteBufUtil.reserveAndWriteUtf8(b, s, n);
    }

    /** {@code s}, or as many of its first characters as take 65535 bytes of UTF-8 (a pair is not split). */
    static String cut(String s) {
        if (s.length() <= MAX_STRING_BYTES / 3 || ByteBufUtil.utf8Bytes(s) <= MAX_STRING_BYTES) {
            return s;
        }
        int end = MAX_STRING_BYTES / 3; // fits whatever the characters; grow it while the next one still fits
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        int bytes = ByteBufUtil.utf8Bytes(s, 0, end);
        while (end < s.length()) {
            int next = Character.isHighSurrogate(s.charAt(end)) && end + 1 < s.length() ? 2 : 1;
            int more = ByteBufUtil.utf8Bytes(s, end, end + next);
            if (bytes + more > MAX_STRING_BYTES) {
                break;
            }
            bytes += more;
            end += next;
        }
        return s.substring(0, end);
    }

    // ---- properties: each writes into b, or, when b is null, only says how many bytes it takes

    private static int byteProperty(ByteBuf b, int id, int v) {
        if (b != null) {
            b.writeByte(id).writeByte(v);
        }
        return 2;
    }

    private static int twoByteProperty(ByteBuf b, int id, int v) {
        if (b != null) {
            b.writeByte(id).writeShort(Math.min(v, 0xFFFF));
        }
        return 3;
    }

    private static int fourByteProperty(ByteBuf b, int id, long v) {
        if (b != null) {
            b.writeByte(id).writeInt((int) Math.min(v, 0xFFFF_FFFFL));
        }
        return 5;
    }

    /** A string property; nothing when {@code s} is null. */
    private static int stringProperty(ByteBuf b, int id, String s) {
        if (s == null) {
            return 0;
        }
        if (b == null) {
            return 3 + utf8Bytes(s);
        }
        writeString(b.writeByte(id), s);
        return 0;
    }

    private static int booleanProperty(ByteBuf b, int id, Boolean v) {
        return v == null ? 0 : byteProperty(b, id, v ? 1 : 0);
    }

    /** A message's properties, in the order MQTT 5 lists them (3.3.2.3). */
    private static int publishProperties(ByteBuf b, PublishProperties p) {
        if (p == PublishProperties.NONE) {
            return 0;
        }
        int n = 0;
        if (p.payloadFormat() != null) {
            n += byteProperty(b, Properties.PAYLOAD_FORMAT, p.payloadFormat());
        }
        if (p.messageExpirySec() >= 0) {
            n += fourByteProperty(b, Properties.MESSAGE_EXPIRY, p.messageExpirySec());
        }
        n += stringProperty(b, Properties.CONTENT_TYPE, p.contentType());
        n += stringProperty(b, Properties.RESPONSE_TOPIC, p.responseTopic());
        if (p.correlationData() != null) {
            if (b == null) {
                n += 3 + p.correlationData().length;
            } else {
                b.writeByte(Properties.CORRELATION_DATA).writeShort(p.correlationData().length)
                        .writeBytes(p.correlationData());
            }
        }
        return n + userProperties(b, p.userProperties());
    }

    private static int userProperties(ByteBuf b, List<UserProperty> properties) {
        int n = 0;
        for (UserProperty u : properties) {
            if (b == null) {
                n += 5 + utf8Bytes(u.name()) + utf8Bytes(u.value());
            } else {
                writeString(b.writeByte(Properties.USER_PROPERTY), u.name());
                writeString(b, u.value());
            }
        }
        return n;
    }

    private static int connackProperties(ByteBuf b, ConnackProperties c) {
        int n = 0;
        if (c.sessionExpirySec >= 0) {
            n += fourByteProperty(b, Properties.SESSION_EXPIRY, c.sessionExpirySec);
        }
        if (c.receiveMaximum > 0) {
            n += twoByteProperty(b, Properties.RECEIVE_MAXIMUM, c.receiveMaximum);
        }
        if (c.maximumQos >= 0) {
            n += byteProperty(b, Properties.MAXIMUM_QOS, c.maximumQos);
        }
        n += booleanProperty(b, Properties.RETAIN_AVAILABLE, c.retainAvailable);
        if (c.maximumPacketSize > 0) {
            n += fourByteProperty(b, Properties.MAXIMUM_PACKET_SIZE, c.maximumPacketSize);
        }
        n += stringProperty(b, Properties.ASSIGNED_CLIENT_ID, c.assignedClientId);
        if (c.topicAliasMaximum >= 0) {
            n += twoByteProperty(b, Properties.TOPIC_ALIAS_MAXIMUM, c.topicAliasMaximum);
        }
        n += stringProperty(b, Properties.REASON_STRING, c.reasonString == null ? null : cut(c.reasonString));
        n += booleanProperty(b, Properties.WILDCARD_AVAILABLE, c.wildcardSubscriptionAvailable);
        n += booleanProperty(b, Properties.SUB_IDS_AVAILABLE, c.subscriptionIdentifiersAvailable);
        n += booleanProperty(b, Properties.SHARED_AVAILABLE, c.sharedSubscriptionAvailable);
        if (c.serverKeepAliveSec >= 0) {
            n += twoByteProperty(b, Properties.SERVER_KEEP_ALIVE, c.serverKeepAliveSec);
        }
        n += stringProperty(b, Properties.SERVER_REFERENCE, c.serverReference);
        return n;
    }
}
