package io.switchboard.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes the packets a server sends, MQTT 3.1.1 and 5, each into one buffer of its exact size from the caller's
 * allocator. Stateless.
 */
public final class MqttEncoder {
    private static final byte[] NO_PROPERTIES = {0};

    private MqttEncoder() {
    }

    public static ByteBuf connack(ByteBufAllocator alloc, int version, boolean sessionPresent, int reasonCode,
                                  ConnackProperties props) {
        byte[] p = version == MqttVersion.V5 ? connackProperties(props) : null;
        int remaining = 2 + (p == null ? 0 : p.length);
        ByteBuf b = alloc.ioBuffer(1 + varintSize(remaining) + remaining);
        b.writeByte(0x20);
        varint(b, remaining);
        b.writeByte(sessionPresent ? 1 : 0).writeByte(reasonCode);
        if (p != null) {
            b.writeBytes(p);
        }
        return b;
    }

    private static byte[] connackProperties(ConnackProperties c) {
        if (c == null) {
            return NO_PROPERTIES;
        }
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        if (c.sessionExpirySec >= 0) {
            u32(o, Properties.SESSION_EXPIRY, c.sessionExpirySec);
        }
        if (c.receiveMaximum > 0) {
            u16(o, Properties.RECEIVE_MAXIMUM, Math.min(c.receiveMaximum, 65535));
        }
        if (c.maximumQos >= 0) {
            u8(o, Properties.MAXIMUM_QOS, c.maximumQos);
        }
        if (c.retainAvailable != null) {
            u8(o, Properties.RETAIN_AVAILABLE, c.retainAvailable ? 1 : 0);
        }
        if (c.maximumPacketSize > 0) {
            u32(o, Properties.MAXIMUM_PACKET_SIZE, c.maximumPacketSize);
        }
        if (c.assignedClientId != null) {
            string(o, Properties.ASSIGNED_CLIENT_ID, c.assignedClientId);
        }
        if (c.topicAliasMaximum >= 0) {
            u16(o, Properties.TOPIC_ALIAS_MAXIMUM, c.topicAliasMaximum);
        }
        if (c.reasonString != null) {
            string(o, Properties.REASON_STRING, c.reasonString);
        }
        if (c.wildcardSubscriptionAvailable != null) {
            u8(o, Properties.WILDCARD_AVAILABLE, c.wildcardSubscriptionAvailable ? 1 : 0);
        }
        if (c.subscriptionIdentifiersAvailable != null) {
            u8(o, Properties.SUB_IDS_AVAILABLE, c.subscriptionIdentifiersAvailable ? 1 : 0);
        }
        if (c.sharedSubscriptionAvailable != null) {
            u8(o, Properties.SHARED_AVAILABLE, c.sharedSubscriptionAvailable ? 1 : 0);
        }
        if (c.serverKeepAliveSec >= 0) {
            u16(o, Properties.SERVER_KEEP_ALIVE, Math.min(c.serverKeepAliveSec, 65535));
        }
        if (c.serverReference != null) {
            string(o, Properties.SERVER_REFERENCE, c.serverReference);
        }
        return withLength(o);
    }

    /** PUBLISH to a client; {@code packetId} is ignored at QoS 0. */
    public static ByteBuf publish(ByteBufAllocator alloc, int version, String topic, byte[] payload, int qos,
                                  boolean retain, boolean dup, int packetId, List<UserProperty> userProperties) {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        byte[] p = null;
        if (version == MqttVersion.V5) {
            if (userProperties.isEmpty()) {
                p = NO_PROPERTIES;
            } else {
                ByteArrayOutputStream o = new ByteArrayOutputStream();
                for (UserProperty u : userProperties) {
                    pair(o, u);
                }
                p = withLength(o);
            }
        }
        int remaining = 2 + t.length + (qos > 0 ? 2 : 0) + (p == null ? 0 : p.length) + payload.length;
        ByteBuf b = alloc.ioBuffer(1 + varintSize(remaining) + remaining);
        b.writeByte(0x30 | (dup ? 0x08 : 0) | qos << 1 | (retain ? 1 : 0));
        varint(b, remaining);
        b.writeShort(t.length).writeBytes(t);
        if (qos > 0) {
            b.writeShort(packetId);
        }
        if (p != null) {
            b.writeBytes(p);
        }
        return b.writeBytes(payload);
    }

    public static ByteBuf puback(ByteBufAllocator alloc, int version, int packetId, int reasonCode) {
        return ack(alloc, 0x40, version, packetId, reasonCode);
    }

    public static ByteBuf pubrec(ByteBufAllocator alloc, int version, int packetId, int reasonCode) {
        return ack(alloc, 0x50, version, packetId, reasonCode);
    }

    public static ByteBuf pubrel(ByteBufAllocator alloc, int version, int packetId, int reasonCode) {
        return ack(alloc, 0x62, version, packetId, reasonCode);
    }

    public static ByteBuf pubcomp(ByteBufAllocator alloc, int version, int packetId, int reasonCode) {
        return ack(alloc, 0x70, version, packetId, reasonCode);
    }

    /** The short form (packet id only) in 3.1.1 and for success in v5; packet id and reason code otherwise. */
    private static ByteBuf ack(ByteBufAllocator alloc, int header, int version, int packetId, int reasonCode) {
        boolean withReason = version == MqttVersion.V5 && reasonCode != 0;
        ByteBuf b = alloc.ioBuffer(withReason ? 5 : 4);
        b.writeByte(header).writeByte(withReason ? 3 : 2).writeShort(packetId);
        if (withReason) {
            b.writeByte(reasonCode);
        }
        return b;
    }

    /** SUBACK: one granted QoS (0-2) or failure code per filter, in order. */
    public static ByteBuf suback(ByteBufAllocator alloc, int version, int packetId, int[] reasonCodes) {
        return codes(alloc, 0x90, version, packetId, reasonCodes, true);
    }

    /** UNSUBACK: v5 has a reason code per filter; 3.1.1 only the packet id. */
    public static ByteBuf unsuback(ByteBufAllocator alloc, int version, int packetId, int[] reasonCodes) {
        return codes(alloc, 0xB0, version, packetId, reasonCodes, version == MqttVersion.V5);
    }

    private static ByteBuf codes(ByteBufAllocator alloc, int header, int version, int packetId, int[] codes,
                                 boolean withCodes) {
        boolean v5 = version == MqttVersion.V5;
        int remaining = 2 + (v5 ? 1 : 0) + (withCodes ? codes.length : 0);
        ByteBuf b = alloc.ioBuffer(1 + varintSize(remaining) + remaining);
        b.writeByte(header);
        varint(b, remaining);
        b.writeShort(packetId);
        if (v5) {
            b.writeByte(0);
        }
        if (withCodes) {
            for (int c : codes) {
                b.writeByte(c);
            }
        }
        return b;
    }

    public static ByteBuf pingresp(ByteBufAllocator alloc) {
        return alloc.ioBuffer(2).writeByte(0xD0).writeByte(0);
    }

    /** A server DISCONNECT: MQTT 5 only (3.1.1 servers just close). */
    public static ByteBuf disconnect(ByteBufAllocator alloc, int version, int reasonCode, String reasonString,
                                     String serverReference) {
        if (version != MqttVersion.V5) {
            throw new IllegalArgumentException("MQTT " + version + " has no DISCONNECT from the server");
        }
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        if (reasonString != null) {
            string(o, Properties.REASON_STRING, reasonString);
        }
        if (serverReference != null) {
            string(o, Properties.SERVER_REFERENCE, serverReference);
        }
        byte[] p = withLength(o);
        int remaining = 1 + p.length;
        ByteBuf b = alloc.ioBuffer(1 + varintSize(remaining) + remaining);
        b.writeByte(0xE0);
        varint(b, remaining);
        return b.writeByte(reasonCode).writeBytes(p);
    }

    // ---- fields

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

    private static void varint(ByteArrayOutputStream o, int n) {
        do {
            int digit = n & 0x7F;
            n >>>= 7;
            o.write(n > 0 ? digit | 0x80 : digit);
        } while (n > 0);
    }

    private static byte[] withLength(ByteArrayOutputStream props) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(props.size() + 4);
        varint(o, props.size());
        o.writeBytes(props.toByteArray());
        return o.toByteArray();
    }

    private static void u8(ByteArrayOutputStream o, int id, int v) {
        o.write(id);
        o.write(v);
    }

    private static void u16(ByteArrayOutputStream o, int id, int v) {
        o.write(id);
        o.write(v >> 8);
        o.write(v);
    }

    private static void u32(ByteArrayOutputStream o, int id, long v) {
        o.write(id);
        o.write((int) (v >> 24));
        o.write((int) (v >> 16));
        o.write((int) (v >> 8));
        o.write((int) v);
    }

    private static void string(ByteArrayOutputStream o, int id, String s) {
        o.write(id);
        utf8(o, s);
    }

    private static void utf8(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, 65535);
        o.write(n >> 8);
        o.write(n);
        o.write(b, 0, n);
    }

    private static void pair(ByteArrayOutputStream o, UserProperty u) {
        o.write(Properties.USER_PROPERTY);
        utf8(o, u.name());
        utf8(o, u.value());
    }
}
