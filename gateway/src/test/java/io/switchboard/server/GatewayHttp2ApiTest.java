package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Pushes through the API over HTTP/2 end to end: many requests in flight on one h2c connection (the JDK's client
 * upgrades with {@code Upgrade: h2c}), and h2 chosen by ALPN on the API's TLS port, where an HTTP/1.1 client is
 * still served.
 */
@Timeout(60)
class GatewayHttp2ApiTest {
    private static final int PUSHES = 500;
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void close() {
        gw.close();
    }

    private static HttpRequest push(String base, String client, String payload) {
        return HttpRequest.newBuilder(URI.create(base + "/v1/clients/" + client + "/messages"))
                .POST(HttpRequest.BodyPublishers.ofString(payload)).build();
    }

    /** Reads {@code n} MSG frames, acking each, and returns their payloads. */
    private static Set<String> receive(SwbTestClient c, int n) throws Exception {
        Set<String> got = new HashSet<>();
        for (int i = 0; i < n; i++) {
            SwbTestClient.Msg m = c.readMsg();
            c.ack(m.seq());
            got.add(m.text());
        }
        return got;
    }

    @Test
    void manyPushesInFlightOnOneH2cConnectionAreAllAnsweredAndDelivered() throws Exception {
        gw.start();
        String base = "http://127.0.0.1:" + gw.server().apiPort();
        try (SwbTestClient device = gw.hello("fleet-1");
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            HttpResponse<String> up = http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, up.version(), "upgraded to h2c");

            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            Set<String> sent = new HashSet<>();
            for (int i = 0; i < PUSHES; i++) {
                sent.add("m" + i);
                answers.add(http.sendAsync(push(base, "fleet-1", "m" + i), HttpResponse.BodyHandlers.ofString()));
            }
            assertEquals(sent, receive(device, PUSHES), "every push reached the device once");
            Set<Long> seqs = new HashSet<>();
            for (CompletableFuture<HttpResponse<String>> a : answers) {
                HttpResponse<String> r = a.get(20, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(HttpClient.Version.HTTP_2, r.version());
                seqs.add(new ApiClient.Response(r.statusCode(), r.body(), "application/json").json().get("seq").asLong());
            }
            assertEquals(PUSHES, seqs.size(), "each push its own seq");
            assertTrue(gw.stats().get("api").get("requests_total").asLong() >= PUSHES + 1);
        }
    }

    @Test
    void anApiOnALoopOfItsOwnAnswersAlike() throws Exception {
        gw.config.apiLoop = "own";
        gw.start();
        try (SwbTestClient device = gw.hello("own-1")) {
            ApiClient.Response r = gw.push("own-1", "via its own loop");
            assertEquals(200, r.status(), r.body());
            assertEquals(Set.of("via its own loop"), receive(device, 1));
            assertEquals(404, gw.push("nobody", "x").status());
        }
    }

    @Test
    void aWrongApiLoopIsRefusedWithOneLine() {
        gw.config.apiLoop = "mine";
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                gw.config::build);
        assertEquals("--api-loop must be shared or own, not 'mine'", e.getMessage());
    }

    @Test
    void theTlsPortSpeaksH2ByAlpnAndStillServesHttp11() throws Exception {
        gw.config.apiTlsCert = resource("cert.pem");
        gw.config.apiTlsKey = resource("key.pem");
        gw.start();
        String base = "https://localhost:" + gw.server().apiPort();
        try (SwbTestClient device = gw.hello("secure-1");
             HttpClient h2 = HttpClient.newBuilder().sslContext(trustingTheTestCertificate())
                     .version(HttpClient.Version.HTTP_2).build();
             HttpClient h1 = HttpClient.newBuilder().sslContext(trustingTheTestCertificate())
                     .version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> a = h2.send(push(base, "secure-1", "over h2"), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, a.statusCode(), a.body());
            assertEquals(HttpClient.Version.HTTP_2, a.version());
            HttpResponse<String> b = h1.send(push(base, "secure-1", "over h1"), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, b.statusCode(), b.body());
            assertEquals(HttpClient.Version.HTTP_1_1, b.version());
            assertEquals(Set.of("over h2", "over h1"), receive(device, 2));
        }
    }

    private static String resource(String name) {
        return TestCertificates.file(name);
    }

    private static SSLContext trustingTheTestCertificate() throws Exception {
        return TestCertificates.trusting();
    }
}
