package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** TLS on the MQTT listener (mosquitto_sub over mqtts) and the WebSocket listener (the JDK's client over wss). */
@Timeout(60)
class GatewayTlsTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void close() {
        gw.close();
    }

    private static String resource(String name) {
        return TestCertificates.file(name);
    }

    private static SSLContext trustingTheTestCertificate() throws Exception {
        return TestCertificates.trusting();
    }

    /** Starts the gateway with an MQTT listener over TLS (the test certificate). */
    private void startWithMqttTls() throws Exception {
        gw.config.mqttPort = 0;
        gw.config.mqttTlsCert = resource("cert.pem");
        gw.config.mqttTlsKey = resource("key.pem");
        gw.start();
    }

    @Test
    void aBrowserStyleClientReceivesAPushOverWss() throws Exception {
        gw.config.wsPort = 0;
        gw.config.wsTlsCert = resource("cert.pem");
        gw.config.wsTlsKey = resource("key.pem");
        gw.start();
        LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
        HttpClient http = HttpClient.newBuilder().sslContext(trustingTheTestCertificate()).build();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create("wss://localhost:" + gw.server().wsPort()
                + "/swb"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                        received.add(StandardCharsets.UTF_8.decode(data).toString());
                        w.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        try {
            ws.sendText("HELLO secure\n", true).get(5, TimeUnit.SECONDS);
            assertTrue(received.poll(5, TimeUnit.SECONDS).startsWith("WELCOME secure "));
            gw.api().post("/v1/clients/secure/messages", "over tls");
            assertTrue(received.poll(5, TimeUnit.SECONDS).endsWith("\nover tls\n"));
        } finally {
            ws.abort();
            http.close();
        }
    }

    @Test
    void mosquittoSubReceivesAPushOverMqtts() throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder("which", "mosquitto_sub").start().waitFor() == 0,
                "mosquitto_sub not installed (apt-get install mosquitto-clients)");
        startWithMqttTls();
        Process sub = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p",
                Integer.toString(gw.server().mqttPort()), "--cafile", resource("cert.pem"), "-i", "secure-dev",
                "-q", "1", "-t", "push/secure-dev", "-C", "1").redirectErrorStream(true).start();
        GatewayFixture.await(() -> {
            try {
                ApiClient.Response r = gw.api().get("/v1/clients/secure-dev");
                return r.status() == 200 && r.json().get("online").asBoolean();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "mosquitto_sub online over TLS");
        gw.api().post("/v1/clients/secure-dev/messages?ttl=60", "sealed");
        assertTrue(sub.waitFor(20, TimeUnit.SECONDS));
        assertEquals("sealed\n", new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void plainTextOnTheTlsPortIsARefusalNotAServerFault() throws Exception {
        startWithMqttTls();
        for (int i = 0; i < 3; i++) { // a device retrying in clear text
            MqttTestClient plain = MqttTestClient.open(gw.server().mqttPort(), 4);
            plain.sendConnect("cleartext", true, 60, null, null, 0);
            plain.expectEof();
            plain.close();
        }
        gw.assertRefusals("tls_failed", 3);
        assertEquals(0, gw.server().metrics().loopErrors.sum(), "counted as the peer's doing, logged at debug");
    }

    @Test
    void plainTextOnTheWssPortIsCountedAsAFailedTlsHandshake() throws Exception {
        gw.config.wsPort = 0;
        gw.config.wsTlsCert = resource("cert.pem");
        gw.config.wsTlsKey = resource("key.pem");
        gw.start();
        for (int i = 0; i < 3; i++) { // a page trying ws:// where the listener is wss://
            try (java.net.Socket plain = new java.net.Socket("127.0.0.1", gw.server().wsPort())) {
                plain.setSoTimeout(5_000);
                plain.getOutputStream().write(WsTestClient.upgradeRequest(gw.server().wsPort(), "/swb")
                        .getBytes(StandardCharsets.US_ASCII));
                try {
                    while (plain.getInputStream().read() >= 0) {
                        // until the server closes
                    }
                } catch (java.net.SocketException reset) {
                    // closed by a reset: as good
                }
            }
        }
        gw.assertRefusals("tls_failed", 3);
        assertEquals(0, gw.server().metrics().loopErrors.sum(), "counted as the peer's doing, logged at debug");
    }

    @Test
    void aKeyWithoutItsCertificateIsRefusedWithOneLine() {
        gw.config.mqttPort = 0;
        gw.config.mqttTlsKey = resource("key.pem");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, gw.config::build);
        assertEquals("--mqtt-tls-cert and --mqtt-tls-key go together: give both or neither", e.getMessage());
    }

    @Test
    void anUnreadableCertificateSaysWhichOptionAndWhatToDo() throws IOException {
        gw.config.wsPort = 0;
        gw.config.wsTlsCert = resource("key.pem"); // a key where the certificate should be
        gw.config.wsTlsKey = resource("key.pem");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, gw::start);
        assertTrue(e.getMessage().startsWith("cannot use --ws-tls-cert "), e.getMessage());
    }
}
