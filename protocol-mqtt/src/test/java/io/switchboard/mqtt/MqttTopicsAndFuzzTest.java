package io.switchboard.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MqttTopicsAndFuzzTest {
    @Test
    void filtersMatchAsTheSpecificationSays() {
        String[][] yes = {{"sport/#", "sport"}, {"sport/#", "sport/tennis/player1"}, {"#", "a/b"}, {"+/+", "/finance"},
            {"/+", "/finance"}, {"a/+/c", "a/b/c"}, {"+", "x"}, {"a/b", "a/b"}, {"$SYS/#", "$SYS/x"}};
        String[][] no = {{"sport/+", "sport"}, {"+", "/finance"}, {"#", "$SYS/x"}, {"+/x", "$SYS/x"}, {"a/b", "a/b/c"},
            {"a/+", "a/b/c"}, {"a/b/c", "a/b"}};
        for (String[] c : yes) {
            assertTrue(MqttTopics.matches(c[0], c[1]), c[0] + " matches " + c[1]);
        }
        for (String[] c : no) {
            assertTrue(!MqttTopics.matches(c[0], c[1]), c[0] + " does not match " + c[1]);
        }
        for (String f : List.of("#", "a/#", "+", "+/+", "a/+/b", "/", "a//b")) {
            assertTrue(MqttTopics.validFilter(f), f);
        }
        for (String f : List.of("", "a/#/b", "a#", "a+", "+a/b", "#/")) {
            assertTrue(!MqttTopics.validFilter(f), f);
        }
    }

    /** Random bytes and mutations of valid packets: only MqttMalformed, never past the packet, always progress. */
    @Test
    void garbageIsMalformedNeverAnotherException() {
        Random random = new Random(42);
        List<byte[]> valid = List.of(MqttDecoderTest.MOSQUITTO_311, MqttDecoderTest.MOSQUITTO_5,
                MqttDecoderTest.packet(0x3b, "0003 612f62 0007 6869"), MqttDecoderTest.packet(0x82, "0002 02 0b05 0001 74 2e"),
                MqttDecoderTest.packet(0x34, "0001 74 0009 0c 0200000005 26 0001 6b 0001 76 78"));
        int decoded = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] p;
            if (i % 2 == 0) {
                p = valid.get(random.nextInt(valid.size())).clone();
                for (int m = 1 + random.nextInt(3); m > 0; m--) {
                    p[random.nextInt(p.length)] = (byte) random.nextInt(256);
                }
            } else {
                p = new byte[1 + random.nextInt(40)];
                random.nextBytes(p);
            }
            ByteBuf b = Unpooled.wrappedBuffer(p, 0, p.length);
            int version = random.nextInt(3) == 0 ? 0 : 4 + random.nextInt(2);
            try {
                int n = MqttDecoder.packetLength(b, 1 << 16);
                if (n < 0) {
                    continue;
                }
                MqttDecoder.decode(b, n, version);
                decoded++;
                assertEquals(p.length - n, b.readableBytes(), "read exactly one packet");
            } catch (MqttMalformed expected) {
                // fine
            }
        }
        assertTrue(decoded > 1000, "some mutations are still valid packets: " + decoded);
    }
}
