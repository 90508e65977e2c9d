package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Garbage through the real listeners' decoding paths (MQTT adapter, WebSocket framing with SWB/1 and MQTT behind
 * it): valid packets mutated at random, cut at random, and random bytes, after a valid handshake or instead of it.
 * Whatever arrives, the gateway answers or closes, never fails with an unexpected error (loop errors stay 0), and
 * serves a well-behaved client afterwards. Seeded: a failure names its seed.
 */
@Timeout(120)
class GatewayProtocolFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", 20261202L);
    private static final int CONNECTIONS = 300;
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void close() {
        gw.close();
    }

    private static byte[] mqttConnect(String id, int version) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', (byte) version, 2, 0, 60});
        if (version == 5) {
            b.write(0);
        }
        b.write(0);
        b.write(id.length());
        b.writeBytes(id.getBytes(StandardCharsets.US_ASCII));
        byte[] body = b.toByteArray();
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x10);
        p.write(body.length);
        p.writeBytes(body);
        return p.toByteArray();
    }

    /** Valid packets a client may send after CONNECT (3.1.1 encoding), as material to mutate. */
    private static final byte[][] MQTT_PACKETS = {
        {0x30, 7, 0, 3, 'a', '/', 'b', 'h', 'i'}, // PUBLISH QoS 0
        {0x32, 9, 0, 3, 'a', '/', 'b', 0, 1, 'h', 'i'}, // PUBLISH QoS 1
        {(byte) 0x82, 8, 0, 2, 0, 3, 'a', '/', '#', 0}, // SUBSCRIBE a/#
        {(byte) 0xA2, 7, 0, 3, 0, 3, 'a', '/', '#'}, // UNSUBSCRIBE
        {(byte) 0xC0, 0}, // PINGREQ
        {0x40, 2, 0, 1}, // PUBACK
        {0x62, 2, 0, 1}, // PUBREL
    };

    private static byte[] mutate(Random r, byte[] packet) {
        byte[] b = packet.clone();
        switch (r.nextInt(4)) {
            case 0 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256); // one byte changed
            case 1 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 1)); // cut
            case 2 -> { // random bytes appended
                byte[] tail = new byte[r.nextInt(64)];
                r.nextBytes(tail);
                ByteArrayOutputStream o = new ByteArrayOutputStream();
                o.writeBytes(b);
                o.writeBytes(tail);
                b = o.toByteArray();
            }
            default -> { // unchanged
            }
        }
        return b;
    }

    private static byte[] wsFrame(Random r, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(r.nextInt(8) == 0 ? r.nextInt(256) : 0x82);
        f.write(0x80 | payload.length);
        byte[] key = new byte[4];
        r.nextBytes(key);
        f.writeBytes(key);
        for (int i = 0; i < payload.length; i++) {
            f.write(payload[i] ^ key[i & 3]);
        }
        return f.toByteArray();
    }

    /** Sends {@code bytes}, then reads (discarding) until the server closes or 30 ms pass. */
    private static void sendAndDrain(int port, byte[]... parts) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30);
            OutputStream out = s.getOutputStream();
            try {
                for (byte[] p : parts) {
                    out.write(p);
                }
                out.flush();
            } catch (IOException closedMeanwhile) {
                return;
            }
            InputStream in = s.getInputStream();
            byte[] sink = new byte[4096];
            try {
                while (in.read(sink) >= 0) {
                    // discard
                }
            } catch (IOException timeoutOrReset) {
                // the server kept the connection open, or reset it: both are answers
            }
        }
    }

    @Test
    void garbageNeverBreaksTheMqttAndWebSocketPaths() throws Exception {
        gw.config.mqttPort = 0;
        gw.config.wsPort = 0;
        gw.config.clientRate = 0; // measure decoding, not the budget
        gw.start();
        Random r = new Random(SEED);
        int mqtt = gw.server().mqttPort();
        int ws = gw.server().wsPort();
        for (int i = 0; i < CONNECTIONS; i++) {
            int version = r.nextBoolean() ? 4 : 5;
            ByteArrayOutputStream packets = new ByteArrayOutputStream();
            if (r.nextInt(5) > 0) {
                packets.writeBytes(mqttConnect("fuzz" + i, version));
            }
            for (int k = r.nextInt(6); k > 0; k--) {
                if (r.nextInt(6) == 0) {
                    byte[] noise = new byte[r.nextInt(100)];
                    r.nextBytes(noise);
                    packets.writeBytes(noise);
                } else {
                    packets.writeBytes(mutate(r, MQTT_PACKETS[r.nextInt(MQTT_PACKETS.length)]));
                }
            }
            byte[] body = packets.toByteArray();
            switch (i % 3) {
                case 0 -> sendAndDrain(mqtt, body);
                case 1 -> sendAndDrain(ws, WsTestClient.upgradeRequest(ws, "/mqtt", "Sec-WebSocket-Protocol: mqtt")
                        .getBytes(StandardCharsets.US_ASCII), wsFrame(r, java.util.Arrays.copyOf(body,
                        Math.min(body.length, 125))));
                default -> sendAndDrain(ws, WsTestClient.upgradeRequest(ws, "/swb").getBytes(StandardCharsets.US_ASCII),
                        wsFrame(r, mutate(r, ("HELLO fz" + i + "\nPING\nSUB a/b\nACK 1\n")
                                .getBytes(StandardCharsets.US_ASCII))));
            }
        }
        assertEquals(0, gw.server().metrics().loopErrors.sum(), "unexpected errors on the loops (seed " + SEED + ")");
        // Still serving: a clean MQTT client gets a push.
        try (MqttTestClient c = MqttTestClient.open(mqtt, 4)) {
            assertEquals(0, c.connect("after-fuzz", true));
            gw.api().post("/v1/clients/after-fuzz/messages", "still here");
            assertEquals("still here", c.readPublish().text());
        }
    }
}
