package io.switchboard.mqtt;

import static io.switchboard.mqtt.PacketAssert.assertPacketEquals;
import static io.switchboard.mqtt.PacketAssert.decode;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Packets of every type and level, encoded by the tests' own client ({@link ClientPackets}), decode to the record
 * they were made from: edge values by hand, then many at random (seeded, so a failure replays).
 */
class MqttRoundTripTest {
    private static final int[] LEVELS = {MqttVersion.V31, MqttVersion.V311, MqttVersion.V5};

    private static void roundTrip(MqttPacket p, int version) throws MqttMalformed {
        byte[] bytes = ClientPackets.encode(p, version);
        int connectionVersion = p instanceof Connect ? 0 : version;
        assertPacketEquals(p, decode(bytes, connectionVersion));
    }

    @Test
    void edgeValuesOfEveryPacketType() throws MqttMalformed {
        byte[] none = new byte[0];
        long u32 = 0xFFFF_FFFFL;
        List<UserProperty> props = List.of(new UserProperty("", ""), new UserProperty("k", "v"),
                new UserProperty("k", "ü€😀"));
        // 3.1.1 and 3.1
        for (int v : new int[] {MqttVersion.V31, MqttVersion.V311}) {
            roundTrip(new Connect(v, "", true, 0, null, null, null, 0, 65_535, 0, 0, true, List.of(), null), v);
            roundTrip(new Connect(v, "c😀", false, 65_535, "", none, new Will("/", none, 2, true, 0, List.of()), 0,
                    65_535, 0, 0, true, List.of(), null), v);
            roundTrip(new Publish("a", none, 0, false, false, 0, 0, -1, List.of(), null, null, null, null), v);
            roundTrip(new Publish("//", new byte[] {0}, 2, true, true, 65_535, 0, -1, List.of(), null, null, null,
                    null), v);
            roundTrip(new PubAck(65_535, 0), v);
            roundTrip(new PubRec(1, 0), v);
            roundTrip(new PubRel(1, 0), v);
            roundTrip(new PubComp(1, 0), v);
            roundTrip(new Subscribe(1, List.of(new Subscription("#", 2, false, false, 0), new Subscription("+/+/#", 0,
                    false, false, 0), new Subscription("$share/g/+", 1, false, false, 0)), 0, List.of()), v);
            roundTrip(new Unsubscribe(65_535, List.of("#", "/", "+"), List.of()), v);
            roundTrip(PingReq.INSTANCE, v);
            roundTrip(Disconnect.NORMAL, v);
        }
        int v5 = MqttVersion.V5;
        roundTrip(new Connect(v5, "", true, 0, null, null, null, 0, 65_535, 0, 0, true, List.of(), null), v5);
        roundTrip(new Connect(v5, "id", false, 65_535, null, new byte[] {1, 2}, new Will("w/😀", new byte[300], 1,
                false, u32, props), u32, 1, u32, 65_535, false, props, "SCRAM-SHA-1"), v5);
        roundTrip(new Publish("", none, 1, false, false, 1, 65_535, 0, List.of(), null, null, null, 0), v5);
        roundTrip(new Publish("t", new byte[70_000], 2, true, true, 9, 1, u32, props, "", "r/😀", none, 1), v5);
        for (int reason : new int[] {0, 0x10, 0x80, 0x99}) {
            roundTrip(new PubAck(2, reason), v5);
            roundTrip(new PubRec(2, reason), v5);
        }
        roundTrip(new PubRel(3, 0x92), v5);
        roundTrip(new PubComp(3, 0x92), v5);
        roundTrip(new Subscribe(4, List.of(new Subscription("a/+", 2, true, true, 2), new Subscription("$share/g/#", 0,
                false, true, 1)), 268_435_455, props), v5);
        roundTrip(new Subscribe(4, List.of(new Subscription("x", 0, false, false, 0)), 1, List.of()), v5);
        roundTrip(new Unsubscribe(5, List.of("a/#"), props), v5);
        roundTrip(PingReq.INSTANCE, v5);
        roundTrip(Disconnect.NORMAL, v5);
        roundTrip(new Disconnect(0, 0, null), v5);
        roundTrip(new Disconnect(0x04, u32, "bye 😀"), v5);
        roundTrip(new Auth(0, null, null), v5);
        roundTrip(new Auth(0x19, "m", none), v5);
    }

    @Test
    void randomPacketsOfEveryTypeAndLevel() throws MqttMalformed {
        Random random = new Random(0x5EED_0F_3A11L);
        RandomPackets packets = new RandomPackets(random);
        int count = 0;
        for (int i = 0; i < 2_000; i++) {
            for (int v : LEVELS) {
                for (MqttPacket p : packets.oneOfEach(v)) {
                    roundTrip(p, v);
                    count++;
                }
            }
        }
        assertEquals(2_000 * (10 + 10 + 11), count);
    }

    /** Many packets back to back, cut into random pieces as TCP may deliver them: the same packets come out. */
    @Test
    void aStreamInRandomPiecesDecodesToTheSamePackets() throws MqttMalformed {
        Random random = new Random(7);
        RandomPackets packets = new RandomPackets(random);
        for (int v : LEVELS) {
            List<MqttPacket> sent = new ArrayList<>();
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            Connect connect = packets.connect(v);
            sent.add(connect);
            stream.writeBytes(ClientPackets.encode(connect, v));
            for (int i = 0; i < 500; i++) {
                List<MqttPacket> each = packets.oneOfEach(v);
                MqttPacket p = each.get(1 + random.nextInt(each.size() - 1)); // no second CONNECT
                sent.add(p);
                stream.writeBytes(ClientPackets.encode(p, v));
            }
            byte[] bytes = stream.toByteArray();
            List<MqttPacket> received = new ArrayList<>();
            ByteBuf cumulation = Unpooled.buffer();
            int version = 0;
            for (int at = 0; at < bytes.length; ) {
                int piece = Math.min(bytes.length - at, 1 + random.nextInt(random.nextBoolean() ? 3 : 200));
                cumulation.writeBytes(bytes, at, piece);
                at += piece;
                int n;
                while ((n = MqttDecoder.packetLength(cumulation, 1 << 20)) > 0) {
                    MqttPacket p = MqttDecoder.decode(cumulation, n, version);
                    if (p instanceof Connect c) {
                        version = c.version();
                    }
                    received.add(p);
                }
                cumulation.discardReadBytes();
            }
            assertEquals(0, cumulation.readableBytes());
            cumulation.release();
            assertPacketEquals(sent, received);
        }
    }
}
