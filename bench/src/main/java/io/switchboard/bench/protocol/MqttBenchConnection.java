package io.switchboard.bench.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * An MQTT 3.1.1 client, its few packets encoded by hand (no codec handlers per connection): {@code CONNECT}
 * (client id, clean session, keep-alive = hb) → {@code CONNACK} 0, then {@code SUBSCRIBE bench/<id>} at QoS 0 (with
 * {@code bench/all} in the same packet when the run times a broadcast) →
 * {@code SUBACK}, which counts as established; {@code PINGREQ} when it has sent nothing for hb; each
 * {@code PUBLISH} counts as a message. Owned by its channel's event loop.
 */
final class MqttBenchConnection extends BenchConnection {
    static final int CONNECT = 1;
    static final int CONNACK = 2;
    static final int PUBLISH = 3;
    static final int PUBACK = 4;
    static final int SUBSCRIBE = 8;
    static final int SUBACK = 9;
    static final int PINGREQ = 12;
    static final int PINGRESP = 13;
    private static final int SUBSCRIBE_PACKET_ID = 1;
    private static final byte[] PROTOCOL_NAME = {0, 4, 'M', 'Q', 'T', 'T'};
    private static final int PROTOCOL_LEVEL_311 = 4;
    private static final int CLEAN_SESSION = 0x02;

    /** Also subscribed to {@code bench/all}, the broadcast topic. */
    private final boolean broadcastToo;

    MqttBenchConnection(BenchEnv env, String clientId, int hbSec, long connectStartNs, boolean broadcastToo) {
        super(env, clientId, hbSec, connectStartNs);
        this.broadcastToo = broadcastToo;
    }

    @Override
    String protocol() {
        return "mqtt";
    }

    @Override
    void onConnected() {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        int remaining = PROTOCOL_NAME.length + 4 + 2 + id.length;
        ByteBuf p = ctx.alloc().ioBuffer(5 + remaining);
        p.writeByte(CONNECT << 4);
        writeRemainingLength(p, remaining);
        p.writeBytes(PROTOCOL_NAME).writeByte(PROTOCOL_LEVEL_311).writeByte(CLEAN_SESSION)
                .writeShort(Math.min(hbSec(), 0xFFFF));
        p.writeShort(id.length).writeBytes(id);
        write(p);
    }

    private void subscribe() {
        byte[] topic = ("bench/" + clientId).getBytes(StandardCharsets.UTF_8);
        byte[] all = ("bench/" + BROADCAST_ID).getBytes(StandardCharsets.UTF_8);
        int remaining = 2 + 2 + topic.length + 1 + (broadcastToo ? 2 + all.length + 1 : 0);
        ByteBuf p = ctx.alloc().ioBuffer(5 + remaining);
        p.writeByte(SUBSCRIBE << 4 | 0x02); // the reserved flags of SUBSCRIBE are 0010
        writeRemainingLength(p, remaining);
        p.writeShort(SUBSCRIBE_PACKET_ID).writeShort(topic.length).writeBytes(topic).writeByte(0);
        if (broadcastToo) {
            p.writeShort(all.length).writeBytes(all).writeByte(0);
        }
        write(p);
    }

    @Override
    void ping() {
        write(ctx.alloc().ioBuffer(2).writeByte(PINGREQ << 4).writeByte(0));
    }

    @Override
    boolean decodeOne(ByteBuf b) {
        int start = b.readerIndex();
        int end = b.writerIndex();
        // Fixed header: type and flags, then the remaining length in 1-4 bytes of 7 bits each, low first.
        int i = start + 1;
        int remaining = 0;
        for (int shift = 0; ; shift += 7) {
            if (i >= end) {
                return false;
            }
            int digit = b.getUnsignedByte(i++);
            remaining |= (digit & 0x7F) << shift;
            if ((digit & 0x80) == 0) {
                break;
            }
            if (shift == 21) {
                fail("mqtt: malformed remaining length");
                return false;
            }
        }
        if (remaining > MAX_FRAME) {
            fail("mqtt: packet too large");
            return false;
        }
        if (end - i < remaining) {
            return false;
        }
        int header = b.getUnsignedByte(start);
        b.readerIndex(i + remaining);
        switch (header >>> 4) {
            case CONNACK -> {
                int rc = remaining >= 2 ? b.getUnsignedByte(i + 1) : -1;
                if (rc != 0) {
                    fail("mqtt: CONNACK return code " + rc);
                } else {
                    subscribe();
                }
            }
            case SUBACK -> {
                // One return code per topic filter after the packet id; 0x80 refuses that filter.
                boolean refused = remaining < 3;
                for (int k = i + 2; k < i + remaining; k++) {
                    refused |= b.getUnsignedByte(k) == 0x80;
                }
                if (refused) {
                    fail("mqtt: SUBSCRIBE refused");
                } else {
                    established();
                }
            }
            case PUBLISH -> onPublish(b, header, i, remaining);
            case PINGRESP -> {
                // the answer to our PINGREQ
            }
            default -> fail("mqtt: unexpected packet type " + (header >>> 4));
        }
        return true;
    }

    private void onPublish(ByteBuf b, int header, int from, int remaining) {
        int qos = (header >>> 1) & 3;
        int topicLength = remaining >= 2 ? b.getUnsignedShort(from) : Integer.MAX_VALUE;
        int payloadFrom = from + 2 + topicLength + (qos > 0 ? 2 : 0);
        int payloadLength = from + remaining - payloadFrom;
        if (payloadLength < 0) {
            fail("mqtt: malformed PUBLISH");
            return;
        }
        if (qos == 1) {
            // Subscribed at QoS 0, so the broker should not send this; acknowledge anyway to stay in step.
            write(ctx.alloc().ioBuffer(4).writeByte(PUBACK << 4).writeByte(2)
                    .writeShort(b.getUnsignedShort(payloadFrom - 2)));
        } else if (qos > 1) {
            report("mqtt: PUBLISH at QoS " + qos + " (subscribed at 0)");
        }
        onPayload(b, payloadFrom, payloadLength);
    }

    static void writeRemainingLength(ByteBuf p, int length) {
        do {
            int digit = length & 0x7F;
            length >>>= 7;
            p.writeByte(length > 0 ? digit | 0x80 : digit);
        } while (length > 0);
    }
}
