package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.metrics.Refusal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** WebSocket clients (SWB/1 on /swb, MQTT on /mqtt) on the same session core, over real sockets. */
@Timeout(60)
class GatewayWebSocketTest {
    private final GatewayFixture gw = new GatewayFixture();
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeEach
    void listenForWebSockets() {
        gw.config.wsPort = 0;
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        gw.close();
    }

    private int port() {
        return gw.server().wsPort();
    }

    private WsTestClient ws(String path, String... headers) throws Exception {
        WsTestClient c = WsTestClient.open(port(), path, headers);
        clients.add(c);
        return c;
    }

    private WsTestClient.Answer answer(String request) throws Exception {
        WsTestClient c = WsTestClient.request(port(), request);
        clients.add(c);
        return c.answer();
    }

    private long push(String client, String payload, int ttl) throws Exception {
        ApiClient.Response r = gw.api().post("/v1/clients/" + client + "/messages?ttl=" + ttl, payload);
        assertEquals(200, r.status(), r.body());
        return r.json().get("seq").asLong();
    }

    @Test
    void theJdkWebSocketClientSpeaksSwbAndReceivesAPush() throws Exception {
        gw.start();
        LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder message = new StringBuilder();

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                message.append(StandardCharsets.UTF_8.decode(data));
                if (last) {
                    received.add(message.toString());
                    message.setLength(0);
                }
                ws.request(1);
                return null;
            }
        };
        HttpClient http = HttpClient.newHttpClient();
        WebSocket socket = http.newWebSocketBuilder().subprotocols("swb")
                .buildAsync(URI.create("ws://127.0.0.1:" + port() + "/swb"), listener).get(5, TimeUnit.SECONDS);
        try {
            assertEquals("swb", socket.getSubprotocol());
            socket.sendText("HELLO browser\n", true).get(5, TimeUnit.SECONDS);
            assertTrue(received.poll(5, TimeUnit.SECONDS).startsWith("WELCOME browser "));
            long seq = push("browser", "hello over websocket", 60);
            assertEquals("MSG " + seq + " 20\nhello over websocket\n", received.poll(5, TimeUnit.SECONDS));
            JsonNode info = gw.api().get("/v1/clients/browser").json();
            assertEquals("swb-ws", info.get("protocol").asText(), info.toString());
            socket.sendText("ACK " + seq + "\n", true).get(5, TimeUnit.SECONDS);
            GatewayFixture.await(() -> {
                try {
                    return gw.api().get("/v1/clients/browser").json().get("queued").asInt() == 0;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "the ACK reached the session");
        } finally {
            socket.abort();
            http.close();
        }
    }

    @Test
    void swbFramesMaySpanMessagesAndFragmentsWithPingsBetween() throws Exception {
        gw.start();
        WsTestClient c = ws("/swb");
        SwbTestClient swb = SwbTestClient.over(c);
        byte[] hello = "HELLO frag\n".getBytes(StandardCharsets.US_ASCII);
        // One SWB/1 frame in a fragmented message (text, continuation), a ping between the fragments.
        c.sendFrame(WsTestClient.OP_TEXT, java.util.Arrays.copyOfRange(hello, 0, 4), true);
        c.sendFrame(0x80 | WsTestClient.OP_PING, "are you there".getBytes(StandardCharsets.US_ASCII), true);
        c.sendFrame(0x80 | WsTestClient.OP_CONTINUATION, java.util.Arrays.copyOfRange(hello, 4, hello.length), true);
        WsTestClient.Frame pong = c.readFrame();
        assertEquals(WsTestClient.OP_PONG, pong.opcode());
        assertEquals("are you there", new String(pong.payload(), StandardCharsets.US_ASCII));
        assertTrue(swb.readLine().startsWith("WELCOME frag "));
        // Two frames in one message, then one frame cut across two messages, the header itself cut in two writes.
        c.sendBinary("PING\nPING\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("PONG", swb.readLine());
        assertEquals("PONG", swb.readLine());
        byte[] sub = "SUB news\n".getBytes(StandardCharsets.US_ASCII);
        c.sendBinary(java.util.Arrays.copyOfRange(sub, 0, 3));
        java.io.ByteArrayOutputStream frame = new java.io.ByteArrayOutputStream();
        frame.write(0x80 | WsTestClient.OP_BINARY);
        frame.write(0x80 | (sub.length - 3));
        byte[] key = {1, 2, 3, 4};
        frame.write(key);
        for (int i = 3; i < sub.length; i++) {
            frame.write(sub[i] ^ key[(i - 3) & 3]);
        }
        byte[] bytes = frame.toByteArray();
        c.sendRaw(java.util.Arrays.copyOfRange(bytes, 0, 3));
        Thread.sleep(50);
        c.sendRaw(java.util.Arrays.copyOfRange(bytes, 3, bytes.length));
        assertEquals("OK SUB news", swb.readLine());
        assertEquals(200, gw.api().post("/v1/topics/news/messages", "extra").status());
        assertEquals("extra", swb.readMsg().text());
    }

    @Test
    void mqttRidesOnTheMqttSubprotocol() throws Exception {
        gw.start();
        WsTestClient c = ws("/mqtt", "Sec-WebSocket-Protocol: mqtt");
        assertEquals("mqtt", c.answer().headers().get("sec-websocket-protocol"));
        MqttTestClient m = MqttTestClient.over(c, 5);
        assertEquals(0, m.connect("sensor", true));
        push("sensor", "reading", 3600);
        MqttTestClient.Pub p = m.readPublish();
        assertEquals("push/sensor", p.topic());
        assertEquals(1, p.qos());
        assertEquals("reading", p.text());
        assertEquals("mqtt-ws", gw.api().get("/v1/clients/sensor").json().get("protocol").asText());
        m.puback(p.packetId());
        m.pingreq();
        m.expect(MqttTestClient.PINGRESP);
        assertEquals(0, gw.api().get("/v1/clients/sensor").json().get("queued").asInt());
    }

    @Test
    void mqtt31ClientsOfferingMqttv31GetItNamedBack() throws Exception {
        gw.start();
        // MQTT.js with protocolVersion 3 and Paho JS in 3.1 mode offer only "mqttv3.1"; a browser refuses a 101
        // that names none of the subprotocols it offered.
        WsTestClient c = ws("/mqtt", "Sec-WebSocket-Protocol: mqttv3.1");
        assertEquals("mqttv3.1", c.answer().headers().get("sec-websocket-protocol"));
        WsTestClient both = ws("/mqtt", "Sec-WebSocket-Protocol: mqttv3.1, mqtt");
        assertEquals("mqttv3.1", both.answer().headers().get("sec-websocket-protocol"), "the client's first choice");
        WsTestClient twoHeaders = ws("/mqtt", "Sec-WebSocket-Protocol: x-other", "Sec-WebSocket-Protocol: mqtt");
        assertEquals("mqtt", twoHeaders.answer().headers().get("sec-websocket-protocol"),
                "a header sent twice is one list (RFC 6455 11.3.4)");
        String split = WsTestClient.upgradeRequest(port(), "/swb").replace("Connection: Upgrade\r\n",
                "Connection: Upgrade\r\nConnection: keep-alive\r\n");
        assertEquals(101, answer(split).status(), "Connection in two headers, Upgrade first");
    }

    @Test
    void upgradesThatAreNotOneAreAnsweredWithTheirHttpStatus() throws Exception {
        gw.start();
        int port = port();
        assertEquals(404, answer(WsTestClient.upgradeRequest(port, "/nope")).status());
        WsTestClient.Answer post = answer(WsTestClient.upgradeRequest(port, "/swb").replace("GET ", "POST "));
        assertEquals(405, post.status());
        assertEquals("GET", post.headers().get("allow"), "RFC 9110 15.5.6: a 405 says what is allowed");
        WsTestClient.Answer plain = answer("GET /swb HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(426, plain.status());
        assertTrue(plain.body().contains("WebSocket"), plain.body());
        assertEquals("websocket", plain.headers().get("upgrade"), "RFC 9110 15.5.22: a 426 names the protocol");
        assertTrue(plain.headers().get("connection").toLowerCase(java.util.Locale.ROOT).contains("upgrade"),
                "RFC 9110 7.8: and Connection says so");
        WsTestClient.Answer version = answer(WsTestClient.upgradeRequest(port, "/swb")
                .replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"));
        assertEquals(426, version.status());
        assertEquals("13", version.headers().get("sec-websocket-version"));
        assertEquals(400, answer(WsTestClient.upgradeRequest(port, "/swb")
                .replaceAll("Sec-WebSocket-Key: .*\r\n", "Sec-WebSocket-Key: short\r\n")).status());
        assertEquals(431, answer(WsTestClient.upgradeRequest(port, "/swb", "X-Big: " + "a".repeat(9000)))
                .status());
        WsTestClient.Answer http10 = answer(WsTestClient.upgradeRequest(port, "/swb").replace("HTTP/1.1", "HTTP/1.0"));
        assertEquals(400, http10.status());
        assertTrue(http10.body().contains("HTTP/1.1"), http10.body());
        WsTestClient.Answer noHost = answer(WsTestClient.upgradeRequest(port, "/swb").replaceAll("Host: .*\r\n", ""));
        assertEquals(400, noHost.status());
        assertTrue(noHost.body().contains("Host"), noHost.body());
        assertEquals(400, answer(WsTestClient.upgradeRequest(port, "/swb", "Host: elsewhere")).status());
        WsTestClient.Answer twoKeys = answer(WsTestClient.upgradeRequest(port, "/swb",
                "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="));
        assertEquals(400, twoKeys.status(), "RFC 6455 11.3.1: the key comes once");
        assertTrue(twoKeys.body().contains("Sec-WebSocket-Key"), twoKeys.body());
        assertEquals(400, answer(WsTestClient.upgradeRequest(port, "/swb")
                .replaceAll("Sec-WebSocket-Key: .*\r\n", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA\r\n")).status(),
                "a key without its padding is not the 24 characters of 16 bytes in base64");
        assertEquals(11, gw.server().metrics().refusals(Refusal.WS_HANDSHAKE));
    }

    @Test
    void browsersOnlyFromTheSameOriginByDefault() throws Exception {
        gw.start();
        int port = port();
        WsTestClient.Answer foreign = answer(WsTestClient.upgradeRequest(port, "/swb", "Origin: https://evil.example"));
        assertEquals(403, foreign.status());
        assertTrue(foreign.body().contains("--ws-allowed-origins"), foreign.body());
        assertEquals(1, gw.server().metrics().refusals(Refusal.WS_ORIGIN));
        assertEquals(101, answer(WsTestClient.upgradeRequest(port, "/swb", "Origin: http://127.0.0.1:" + port))
                .status(), "the page's own host");
        assertEquals(101, answer(WsTestClient.upgradeRequest(port, "/swb")).status(), "no Origin: not a browser");
    }

    @Test
    void allowedOriginsAreListedOrAny() throws Exception {
        gw.config.wsAllowedOrigins = "https://app.example.com, https://admin.example.com";
        gw.start();
        int port = port();
        assertEquals(101, answer(WsTestClient.upgradeRequest(port, "/swb", "Origin: https://APP.example.com"))
                .status());
        assertEquals(403, answer(WsTestClient.upgradeRequest(port, "/swb", "Origin: http://127.0.0.1:" + port))
                .status(), "a list replaces the same-origin rule");
    }

    @Test
    void anUpgradeThatNeverComesTimesOut() throws Exception {
        gw.config.handshakeTimeoutSec = 1;
        gw.start();
        WsTestClient.Answer a = answer("GET /swb HTTP/1.1\r\n"); // and nothing more
        assertEquals(408, a.status());
    }

    @Test
    void mqttInATextMessageIsRefusedWith1003AndNotUtf8TextWith1007() throws Exception {
        gw.start();
        WsTestClient mqtt = ws("/mqtt", "Sec-WebSocket-Protocol: mqtt");
        mqtt.sendFrame(0x80 | WsTestClient.OP_TEXT, new byte[] {0x10, 0}, true); // MQTT-6.0.0-1: binary only
        assertEquals(1003, mqtt.readClose().closeCode());
        WsTestClient swb = ws("/swb");
        swb.sendFrame(0x80 | WsTestClient.OP_TEXT, new byte[] {'H', 'E', 'L', 'L', 'O', ' ', (byte) 0xff, '\n'}, true);
        assertEquals(1007, swb.readClose().closeCode());
        assertEquals(2, gw.server().metrics().refusals(Refusal.MALFORMED_FRAME, "ws"));
    }

    @Test
    void framingErrorsCloseWithTheirCode() throws Exception {
        gw.config.wsMaxFrameBytes = 200;
        gw.start();
        WsTestClient unmasked = ws("/swb");
        unmasked.sendFrame(0x80 | WsTestClient.OP_TEXT, "HELLO x\n".getBytes(StandardCharsets.US_ASCII), false);
        assertEquals(1002, unmasked.readClose().closeCode());
        WsTestClient emptyPing = ws("/swb");
        emptyPing.sendRaw(new byte[] {(byte) 0x89, 0}); // unmasked and too short to hold a masking key
        assertEquals(1002, emptyPing.readClose().closeCode());

        WsTestClient rsv = ws("/swb");
        rsv.sendFrame(0xC0 | WsTestClient.OP_TEXT, "HELLO x\n".getBytes(StandardCharsets.US_ASCII), true);
        assertEquals(1002, rsv.readClose().closeCode());

        WsTestClient stray = ws("/swb");
        stray.sendFrame(0x80 | WsTestClient.OP_CONTINUATION, "x".getBytes(StandardCharsets.US_ASCII), true);
        assertEquals(1002, stray.readClose().closeCode());

        WsTestClient big = ws("/swb");
        big.sendFrame(0x80 | WsTestClient.OP_BINARY, new byte[201], true);
        WsTestClient.Frame tooBig = big.readClose();
        assertEquals(1009, tooBig.closeCode());
        assertTrue(tooBig.closeReason().contains("200"), tooBig.closeReason());

        WsTestClient topBit = ws("/swb"); // a 64-bit length with its most significant bit set: malformed
        topBit.sendRaw(new byte[] {(byte) 0x82, (byte) 0xFF, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4});
        assertEquals(1002, topBit.readClose().closeCode());
        assertEquals(5, gw.server().metrics().refusals(Refusal.MALFORMED_FRAME));
        assertEquals(1, gw.server().metrics().refusals(Refusal.FRAME_TOO_LARGE));
        assertEquals(5, gw.server().metrics().refusals(Refusal.MALFORMED_FRAME, "ws"), "labelled by protocol");
        JsonNode byProtocol = gw.stats().get("refusals_by_protocol");
        assertEquals(5, byProtocol.path("ws").path("malformed_frame").asInt(), byProtocol.toString());
        String metrics = gw.api().get("/metrics").body();
        assertTrue(metrics.contains("switchboard_client_refusals_total{protocol=\"ws\",reason=\"frame_too_large\"} 1"),
                metrics);
    }

    @Test
    void socketsThatNeverUpgradeHoldTheirPlaceUnderTheConnectionLimits() throws Exception {
        gw.config.maxConnectionsPerIp = 2;
        gw.start();
        java.net.Socket silent = new java.net.Socket("127.0.0.1", port());
        clients.add(silent);
        WsTestClient upgraded = ws("/swb");
        WsTestClient.Answer refused = answer(WsTestClient.upgradeRequest(port(), "/swb"));
        assertEquals(429, refused.status());
        assertTrue(refused.body().contains("too many connections from your address"), refused.body());
        assertTrue(Integer.parseInt(refused.headers().get("retry-after")) >= 1, refused.headers().toString());
        assertEquals(1, gw.server().metrics().refusals(Refusal.PER_IP_LIMIT));
        // A lingering close: what the refused client still sends is read, not answered with a reset (which can
        // destroy the answer before it is read, on some systems and through middleboxes).
        WsTestClient lingering = WsTestClient.request(port(), WsTestClient.upgradeRequest(port(), "/swb"));
        clients.add(lingering);
        assertEquals(429, lingering.answer().status());
        lingering.socket().getOutputStream().write(new byte[16 * 1024]);
        Thread.sleep(100);
        lingering.socket().getOutputStream().write(new byte[16 * 1024]);
        Thread.sleep(100);
        lingering.socket().getOutputStream().write(new byte[16 * 1024]); // no "Connection reset" nor "Broken pipe"
        assertEquals(-1, lingering.socket().getInputStream().read(), "the server's FIN after its answer");

        silent.close(); // freed without an upgrade
        GatewayFixture.await(() -> {
            try (WsTestClient again = WsTestClient.request(port(), WsTestClient.upgradeRequest(port(), "/swb"))) {
                return again.answer().status() == 101;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "the silent socket's place taken again");
        SwbTestClient swb = SwbTestClient.over(upgraded);
        swb.hello("counted-once"); // the upgraded connection took its framing's place, not a second one
        assertEquals(200, gw.api().get("/v1/clients/counted-once").status());
    }

    @Test
    void behindAProxyTheAnnouncedAddressHoldsItsPlaceFromItsHeaderOn() throws Exception {
        gw.config.acceptProxy = true;
        gw.config.maxConnectionsPerIp = 1;
        gw.start();
        String header = "PROXY TCP4 192.0.2.7 192.0.2.250 5555 7000\r\n";
        java.net.Socket silent = new java.net.Socket("127.0.0.1", port());
        clients.add(silent);
        silent.getOutputStream().write(header.getBytes(StandardCharsets.US_ASCII)); // and no upgrade
        GatewayFixture.await(() -> gw.server().guard().open() == 1, "the announced address counted");
        assertEquals(429, answer(header + WsTestClient.upgradeRequest(port(), "/swb")).status());
        assertEquals(101, answer(header.replace("192.0.2.7", "192.0.2.8") + WsTestClient.upgradeRequest(port(), "/swb"))
                .status(), "another address is let in");
        GatewayFixture.await(() -> gw.server().guard().open() == 2, "counted once each");
    }

    @Test
    void aTooLargeFrameIsAnswered1009AlsoWhileItsRestIsStillComing() throws Exception {
        gw.config.wsMaxFrameBytes = 1000;
        gw.start();
        WsTestClient big = ws("/swb");
        SwbTestClient swb = SwbTestClient.over(big);
        swb.hello("big");
        // 2 MB sent: the server stops reading at the header; the unread rest must not reset the close away.
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                big.sendFrame(0x80 | WsTestClient.OP_BINARY, new byte[2_000_000], true);
            } catch (java.io.IOException ignored) {
                // the server may close first
            }
        });
        assertTrue(swb.readLine().startsWith("BYE 413 "), "the protocol's goodbye first");
        assertNull(swb.readLine());
        assertEquals(1009, big.closeFrame().closeCode());
        writer.join(10_000);
    }

    @Test
    void aCloseFrameWithACodeNoEndpointMaySendIsAProtocolError() throws Exception {
        gw.start();
        WsTestClient c = ws("/swb");
        c.sendFrame(0x80 | WsTestClient.OP_CLOSE, new byte[] {0x03, (byte) 0xED}, true); // 1005: never on the wire
        assertEquals(1002, c.readClose().closeCode());
        WsTestClient ok = ws("/swb");
        ok.sendFrame(0x80 | WsTestClient.OP_CLOSE, new byte[] {0x0F, (byte) 0xA0}, true); // 4000: an application's
        assertEquals(4000, ok.readClose().closeCode(), "echoed");
    }

    @Test
    void theProtocolsGoodbyeComesInsideThenTheCloseFrame() throws Exception {
        gw.start();
        WsTestClient c = ws("/swb");
        SwbTestClient swb = SwbTestClient.over(c);
        swb.send("ACK 1"); // before HELLO: a protocol error
        assertTrue(swb.readLine().startsWith("BYE 400 "));
        assertNull(swb.readLine());
        assertEquals(4400, c.closeFrame().closeCode());
        assertEquals(1, gw.server().metrics().refusals(Refusal.MALFORMED_FRAME, "swb-ws"));
        assertEquals(0, gw.server().metrics().refusals(Refusal.MALFORMED_FRAME, "swb"));

        WsTestClient polite = ws("/swb");
        SwbTestClient leaving = SwbTestClient.over(polite);
        leaving.hello("leaver");
        leaving.send("BYE");
        assertNull(leaving.readLine());
        assertEquals(1000, polite.closeFrame().closeCode());
    }

    /** An MQTT 3.1.1 PUBLISH, QoS 0, of {@code payload} on {@code topic}. */
    private static byte[] publishPacket(String topic, String payload) {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.write(0x30);
        for (int length = 2 + t.length + p.length; ; length >>>= 7) { // the remaining length, 7 bits a byte
            b.write(length < 128 ? length : (length & 0x7f) | 0x80);
            if (length < 128) {
                break;
            }
        }
        b.write(0);
        b.write(t.length);
        b.writeBytes(t);
        b.writeBytes(p);
        return b.toByteArray();
    }

    @Test
    void aCloseFrameRightAfterAHelloWaitsForTheSessionAndWhatCameBetween() throws Exception {
        gw.start();
        push("held", "stored", 3600); // an existing session: the hello waits for its claim, reading paused
        WsTestClient c = ws("/swb");
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        all.writeBytes(WsTestClient.frame(0x80 | WsTestClient.OP_BINARY,
                "HELLO held\nPING\n".getBytes(StandardCharsets.US_ASCII), true));
        all.writeBytes(WsTestClient.frame(0x80 | WsTestClient.OP_CLOSE, new byte[] {0x03, (byte) 0xE8}, true));
        c.sendRaw(all.toByteArray());
        SwbTestClient swb = SwbTestClient.over(c);
        assertTrue(swb.readLine().startsWith("WELCOME held "));
        // The client is leaving: its stored message is not sent to it now (a browser drops what comes after its
        // close), and stays stored for its next connection.
        assertEquals("PONG", swb.readLine(), "the PING sent before the close is answered");
        assertNull(swb.readLine());
        assertEquals(1000, c.closeFrame().closeCode(), "then the client's close, echoed");
        gw.awaitOffline("held");
        SwbTestClient again = SwbTestClient.over(ws("/swb"));
        again.hello("held");
        assertEquals("stored", again.readMsg().text(), "kept for the next connection");
    }

    @Test
    void oneFrameMayCarryManyMqttPacketsBeyondTheLargestPayload() throws Exception {
        gw.config.maxPayloadBytes = 1000;
        gw.start();
        MqttTestClient watcher = MqttTestClient.over(ws("/mqtt", "Sec-WebSocket-Protocol: mqtt"), 4);
        assertEquals(0, watcher.connect("watcher", true));
        assertEquals(0, watcher.subscribeAndWait(1, "q/#", 0));
        WsTestClient socket = ws("/mqtt", "Sec-WebSocket-Protocol: mqtt");
        MqttTestClient sender = MqttTestClient.over(socket, 4);
        assertEquals(0, sender.connect("queued", true));
        java.io.ByteArrayOutputStream queue = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 20; i++) { // 20 packets of ~900 bytes in one frame, as MQTT.js sends its queue
            queue.writeBytes(publishPacket("q/" + i, String.valueOf(i).repeat(900 / String.valueOf(i).length())));
        }
        socket.sendBinary(queue.toByteArray());
        for (int i = 0; i < 20; i++) {
            assertEquals("q/" + i, watcher.readPublish().topic());
        }
    }

    @Test
    void whatCameBeforeTheClientsCloseFrameIsHandledThoughItsConnectionWasPausedWhenTheCloseCame() throws Exception {
        // One frame a second: the first PUBLISH spends it and reading pauses, with the rest of the write (a second
        // PUBLISH, a DISCONNECT, the close frame) read already.
        gw.config.clientRate = 1;
        gw.config.clientBurst = 1;
        gw.config.clientRateGraceSec = 60;
        gw.start();
        MqttTestClient watcher = MqttTestClient.over(ws("/mqtt", "Sec-WebSocket-Protocol: mqtt"), 4);
        assertEquals(0, watcher.connect("watcher", true));
        assertEquals(0, watcher.subscribeAndWait(1, "t/#", 0));
        WsTestClient socket = ws("/mqtt", "Sec-WebSocket-Protocol: mqtt");
        MqttTestClient leaving = MqttTestClient.over(socket, 4);
        assertEquals(0, leaving.connectWithWill("leaving", "t/will", "gone", false, 0));
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        all.writeBytes(WsTestClient.frame(0x80 | WsTestClient.OP_BINARY, publishPacket("t/a", "a"), true));
        all.writeBytes(WsTestClient.frame(0x80 | WsTestClient.OP_BINARY, publishPacket("t/b", "b"), true));
        all.writeBytes(WsTestClient.frame(0x80 | WsTestClient.OP_BINARY, new byte[] {(byte) 0xE0, 0}, true));
        all.writeBytes(WsTestClient.frame(0x80 | WsTestClient.OP_CLOSE, new byte[] {0x03, (byte) 0xE8}, true));
        socket.sendRaw(all.toByteArray());
        assertEquals("a", watcher.readPublish().text());
        gw.advanceSec(1);
        assertEquals("b", watcher.readPublish().text(), "the second PUBLISH, sent before the close, is delivered");
        gw.advanceSec(1);
        gw.advanceSec(1);
        socket.readClose();
        watcher.expectSilence(300); // no will: the client sent a normal DISCONNECT before its close
    }

    @Test
    void drainSaysGoingAway() throws Exception {
        gw.config.drainPeriodSec = 1;
        gw.start();
        WsTestClient c = ws("/swb");
        SwbTestClient swb = SwbTestClient.over(c);
        swb.hello("drained");
        WsTestClient m = ws("/mqtt", "Sec-WebSocket-Protocol: mqtt");
        MqttTestClient mqtt = MqttTestClient.over(m, 4);
        assertEquals(0, mqtt.connect("drained-mqtt", true));
        assertEquals(202, gw.api().post("/v1/drain", "").status());
        assertTrue(swb.readLine().startsWith("BYE 503 draining"));
        assertNull(swb.readLine());
        assertEquals(1001, c.closeFrame().closeCode());
        assertEquals(1001, m.readClose().closeCode(), "MQTT 3.1.1 has no DISCONNECT from the server: only the close");
    }
}
