package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.server.ApiClient;
import io.switchboard.server.GatewayFixture;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** With {@code --api-token} every endpoint but {@code /healthz} needs {@code Authorization: Bearer <token>}. */
@Timeout(30)
class ApiAuthTest {
    private final GatewayFixture gw = new GatewayFixture();

    @BeforeEach
    void startWithToken() throws Exception {
        gw.config.apiToken = "s3cret";
        gw.start();
    }

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldRefuseRequestWithoutBearerToken() throws Exception {
        ApiClient.Response r = gw.api().send("GET", "/v1/stats", null, null);
        assertEquals(401, r.status());
        assertEquals(401, r.json().get("status").asInt());
        assertEquals(401, gw.api().send("GET", "/metrics", null, null).status());
        assertEquals(401, gw.api().send("POST", "/v1/drain", new byte[0], null).status());
        assertEquals(false, gw.server().draining(), "an unauthorized drain does nothing");
    }

    @Test
    void shouldRefuseARequestWithoutTheTokenBeforeItsBodyIsGathered() throws Exception {
        assertEquals("HTTP/1.1 401", firstStatus("/v1/broadcast"));
        assertEquals("HTTP/1.1 401", firstStatus("/healthz"), "a health check needs no token, but not with a body");
        gw.assertRefusals("api_unauthorized", 2);
        assertEquals(200, gw.api().send("GET", "/healthz", null, null).status(), "the health check needs none");
    }

    @Test
    void aClientThatSendsItsWholeBodyBeforeReadingGetsTheRefusalNotAReset() throws Exception {
        try (RawHttp c = RawHttp.connect(gw.server().apiPort())) {
            int size = 4 << 20;
            c.send("POST /v1/broadcast HTTP/1.1\r\nHost: t\r\nContent-Length: " + size + "\r\n\r\n");
            byte[] chunk = new byte[64 * 1024];
            for (int sent = 0; sent < size; sent += chunk.length) {
                c.socket.getOutputStream().write(chunk); // as urllib3 or HttpURLConnection: the body first
            }
            c.socket.getOutputStream().flush();
            RawHttp.Answer a = c.read(); // closed at once after the 401, the socket was reset under these writes
            assertEquals(401, a.status(), a.body());
            assertTrue(c.atEof());
        }
    }

    private String firstStatus(String path) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", gw.server().apiPort())) {
            s.setSoTimeout(5_000);
            // Headers of a 30 MB body, and none of the body: the answer must not wait for it.
            s.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: 30000000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            byte[] head = new byte[12];
            int n = 0;
            while (n < head.length) {
                int r = s.getInputStream().read(head, n, head.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
            return new String(head, 0, n, StandardCharsets.US_ASCII);
        }
    }

    @Test
    void shouldRefuseRequestWithWrongBearerToken() throws Exception {
        for (String header : new String[] {"Bearer wrong", "Bearer s3cret2", "Bearer s3cre", "Bearers3cret",
                "s3cret", "Basic czNjcmV0"}) {
            ApiClient.Response r = gw.api().send("POST", "/v1/clients/a/messages",
                    "x".getBytes(StandardCharsets.UTF_8), header);
            assertEquals(401, r.status(), header);
            assertEquals(401, r.json().get("status").asInt(), header);
        }
        gw.assertRefusals("api_unauthorized", 6);
    }

    @Test
    void shouldServeRequestWithTheRightBearerToken() throws Exception {
        ApiClient.Response r = gw.api().send("GET", "/v1/stats", null, "Bearer s3cret");
        assertEquals(200, r.status(), r.body());
        assertEquals(200, gw.api().get("/metrics").status()); // the fixture's client sends the configured token
    }

    @Test
    void shouldServeHealthzWithoutToken() throws Exception {
        ApiClient.Response r = gw.api().send("GET", "/healthz", null, null);
        assertEquals(200, r.status());
        assertEquals("ok", r.json().get("status").asText());
    }

    @Test
    void aRequestTargetInAbsoluteFormIsServedAsItsPath() throws Exception {
        try (RawHttp c = RawHttp.connect(gw.server().apiPort())) {
            // As a client sends through a proxy; a server must accept the absolute form (RFC 9112 3.2.2).
            c.send("GET http://gw.example:8080/healthz HTTP/1.1\r\nHost: gw.example:8080\r\n\r\n");
            assertEquals(200, c.read().status(), "a health check, without a token");
            c.send("POST HTTP://gw.example/v1/clients/x/messages?ttl=60 HTTP/1.1\r\nHost: gw.example\r\n"
                    + "Authorization: Bearer s3cret\r\nContent-Length: 2\r\n\r\nhi");
            RawHttp.Answer push = c.read();
            assertEquals(200, push.status(), push.body());
            assertTrue(push.body().contains("\"seq\":1"), push.body());
        }
    }
}
