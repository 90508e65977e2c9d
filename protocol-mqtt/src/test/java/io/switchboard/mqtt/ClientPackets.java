package io.switchboard.mqtt;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

/**
 * A client's side of MQTT for the tests, written from the specification and independent of {@link MqttEncoder}:
 * encodes each {@link MqttPacket} record as a client sends it, so that decoding the bytes must give the record back.
 * A v5 property is written when its field is not the record's "absent" value.
 */
final class ClientPackets {
    private ClientPackets() {
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    /** A packet of {@code firstByte} and {@code body}, with the remaining length in between. */
    static byte[] packet(int firstByte, byte[] body) {
        Out o = new Out();
        o.u8(firstByte);
        o.varint(body.length);
        o.bytes(body);
        return o.toByteArray();
    }

    /** {@link #packet} with the body in hex (spaces ignored). */
    static byte[] packet(int firstByte, String hexBody) {
        return packet(firstByte, hex(hexBody));
    }

    static byte[] encode(MqttPacket packet, int version) {
        boolean v5 = version == MqttVersion.V5;
        return switch (packet) {
            case Connect c -> connect(c);
            case Publish p -> publish(p, v5);
            case PubAck a -> ack(0x40, a.packetId(), a.reasonCode(), v5);
            case PubRec a -> ack(0x50, a.packetId(), a.reasonCode(), v5);
            case PubRel a -> ack(0x62, a.packetId(), a.reasonCode(), v5);
            case PubComp a -> ack(0x70, a.packetId(), a.reasonCode(), v5);
            case Subscribe s -> subscribe(s, v5);
            case Unsubscribe u -> unsubscribe(u, v5);
            case PingReq p -> new byte[] {(byte) 0xC0, 0};
            case Disconnect d -> disconnect(d, v5);
            case Auth a -> auth(a);
        };
    }

    private static byte[] connect(Connect c) {
        boolean v5 = c.version() == MqttVersion.V5;
        Out o = new Out();
        o.string(c.version() == MqttVersion.V31 ? "MQIsdp" : "MQTT");
        o.u8(c.version());
        Will w = c.will();
        o.u8((c.username() != null ? 0x80 : 0) | (c.password() != null ? 0x40 : 0)
                | (w != null && w.retain() ? 0x20 : 0) | (w != null ? w.qos() << 3 | 0x04 : 0)
                | (c.cleanStart() ? 0x02 : 0));
        o.u16(c.keepAliveSec());
        if (v5) {
            Out p = new Out();
            if (c.sessionExpirySec() != 0) {
                p.u8(0x11).u32(c.sessionExpirySec());
            }
            if (c.receiveMaximum() != 65535) {
                p.u8(0x21).u16(c.receiveMaximum());
            }
            if (c.maximumPacketSize() != 0) {
                p.u8(0x27).u32(c.maximumPacketSize());
            }
            if (c.topicAliasMaximum() != 0) {
                p.u8(0x22).u16(c.topicAliasMaximum());
            }
            if (!c.requestProblemInformation()) {
                p.u8(0x17).u8(0);
            }
            p.userProperties(c.userProperties());
            if (c.authenticationMethod() != null) {
                p.u8(0x15).string(c.authenticationMethod());
            }
            o.properties(p);
        }
        o.string(c.clientId());
        if (w != null) {
            if (v5) {
                Out p = new Out();
                if (w.delayIntervalSec() != 0) {
                    p.u8(0x18).u32(w.delayIntervalSec());
                }
                p.userProperties(w.userProperties());
                o.properties(p);
            }
            o.string(w.topic());
            o.binary(w.payload());
        }
        if (c.username() != null) {
            o.string(c.username());
        }
        if (c.password() != null) {
            o.binary(c.password());
        }
        return packet(0x10, o.toByteArray());
    }

    private static byte[] publish(Publish m, boolean v5) {
        Out o = new Out();
        o.string(m.topic());
        if (m.qos() > 0) {
            o.u16(m.packetId());
        }
        if (v5) {
            Out p = new Out();
            if (m.payloadFormat() != null) {
                p.u8(0x01).u8(m.payloadFormat());
            }
            if (m.messageExpirySec() >= 0) {
                p.u8(0x02).u32(m.messageExpirySec());
            }
            if (m.contentType() != null) {
                p.u8(0x03).string(m.contentType());
            }
            if (m.responseTopic() != null) {
                p.u8(0x08).string(m.responseTopic());
            }
            if (m.correlationData() != null) {
                p.u8(0x09).binary(m.correlationData());
            }
            if (m.topicAlias() != 0) {
                p.u8(0x23).u16(m.topicAlias());
            }
            p.userProperties(m.userProperties());
            o.properties(p);
        }
        o.bytes(m.payload());
        return packet(0x30 | (m.dup() ? 0x08 : 0) | m.qos() << 1 | (m.retain() ? 1 : 0), o.toByteArray());
    }

    private static byte[] ack(int firstByte, int packetId, int reason, boolean v5) {
        Out o = new Out().u16(packetId);
        if (v5 && reason != 0) {
            o.u8(reason);
        }
        return packet(firstByte, o.toByteArray());
    }

    private static byte[] subscribe(Subscribe s, boolean v5) {
        Out o = new Out().u16(s.packetId());
        if (v5) {
            Out p = new Out();
            if (s.subscriptionIdentifier() != 0) {
                p.u8(0x0B).varint(s.subscriptionIdentifier());
            }
            p.userProperties(s.userProperties());
            o.properties(p);
        }
        for (Subscription sub : s.subscriptions()) {
            o.string(sub.filter());
            o.u8(sub.qos() | (sub.noLocal() ? 0x04 : 0) | (sub.retainAsPublished() ? 0x08 : 0)
                    | sub.retainHandling() << 4);
        }
        return packet(0x82, o.toByteArray());
    }

    private static byte[] unsubscribe(Unsubscribe u, boolean v5) {
        Out o = new Out().u16(u.packetId());
        if (v5) {
            o.properties(new Out().userProperties(u.userProperties()));
        }
        for (String f : u.filters()) {
            o.string(f);
        }
        return packet(0xA2, o.toByteArray());
    }

    private static byte[] disconnect(Disconnect d, boolean v5) {
        Out o = new Out();
        if (v5 && !d.equals(Disconnect.NORMAL)) {
            o.u8(d.reasonCode());
            Out p = new Out();
            if (d.sessionExpirySec() >= 0) {
                p.u8(0x11).u32(d.sessionExpirySec());
            }
            if (d.reasonString() != null) {
                p.u8(0x1F).string(d.reasonString());
            }
            o.properties(p);
        }
        return packet(0xE0, o.toByteArray());
    }

    private static byte[] auth(Auth a) {
        Out o = new Out();
        if (a.reasonCode() != 0 || a.method() != null || a.data() != null) {
            o.u8(a.reasonCode());
            Out p = new Out();
            if (a.method() != null) {
                p.u8(0x15).string(a.method());
            }
            if (a.data() != null) {
                p.u8(0x16).binary(a.data());
            }
            o.properties(p);
        }
        return packet(0xF0, o.toByteArray());
    }

    /** MQTT's data types, written into a growing array. */
    static final class Out {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Out u8(int v) {
            b.write(v);
            return this;
        }

        Out u16(int v) {
            return u8(v >> 8).u8(v & 0xFF);
        }

        Out u32(long v) {
            return u16((int) (v >> 16) & 0xFFFF).u16((int) v & 0xFFFF);
        }

        Out varint(int v) {
            do {
                int digit = v % 128;
                v /= 128;
                u8(v > 0 ? digit | 0x80 : digit);
            } while (v > 0);
            return this;
        }

        Out bytes(byte[] v) {
            b.writeBytes(v);
            return this;
        }

        Out binary(byte[] v) {
            return u16(v.length).bytes(v);
        }

        Out string(String s) {
            return binary(s.getBytes(StandardCharsets.UTF_8));
        }

        Out userProperties(List<UserProperty> properties) {
            for (UserProperty u : properties) {
                u8(0x26).string(u.name()).string(u.value());
            }
            return this;
        }

        /** The property length, then the properties in {@code p}. */
        Out properties(Out p) {
            return varint(p.b.size()).bytes(p.toByteArray());
        }

        byte[] toByteArray() {
            return b.toByteArray();
        }
    }
}
