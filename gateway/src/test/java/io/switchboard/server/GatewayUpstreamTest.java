package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.switchboard.upstream.UpstreamSinks;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A client's SEND travels through the gateway to a real webhook, and SENT / NACK come back as the backend answers. */
class GatewayUpstreamTest {
    private final GatewayFixture gw = new GatewayFixture();
    private final BlockingQueue<JsonNode> posted = new ArrayBlockingQueue<>(16);
    private final AtomicInteger status = new AtomicInteger(200);
    private final CountDownLatch answerGate = new CountDownLatch(1);
    private HttpServer webhook;

    @BeforeEach
    void startWebhook() throws IOException {
        webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/hook", ex -> {
            try (ex) {
                posted.add(new ObjectMapper().readTree(ex.getRequestBody().readAllBytes()));
                answerGate.await(5, TimeUnit.SECONDS);
                ex.sendResponseHeaders(status.get(), -1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        webhook.start();
        gw.upstream = UpstreamSinks.parse("webhook:http://127.0.0.1:" + webhook.getAddress().getPort() + "/hook");
    }

    @AfterEach
    void tearDown() {
        gw.close();
        webhook.stop(0);
    }

    @Test
    void shouldAnswerSentOnlyAfterTheWebhookAcceptedTheMessage() throws Exception {
        gw.start();
        SwbTestClient c = gw.hello("dev1");
        c.sendRaw("SEND s1 5\nhello\n".getBytes(StandardCharsets.US_ASCII));
        JsonNode body = posted.poll(5, TimeUnit.SECONDS);
        assertTrue(body != null, "the webhook got the message");
        JsonNode m = body.get("messages").get(0);
        assertEquals("dev1", m.get("client").asText());
        assertEquals("s1", m.get("id").asText());
        assertEquals("hello", new String(Base64.getDecoder().decode(m.get("payload_b64").asText()),
                StandardCharsets.UTF_8));
        c.sync(); // nothing (no SENT) before the backend answered
        answerGate.countDown();
        assertEquals("SENT s1", c.readLine());
    }

    @Test
    void shouldNackWhenTheWebhookRefusesTheMessage() throws Exception {
        status.set(400);
        answerGate.countDown();
        gw.start();
        SwbTestClient c = gw.hello("dev2");
        c.sendRaw("SEND s9 2\nhi\n".getBytes(StandardCharsets.US_ASCII));
        String line = c.readLine();
        assertTrue(line.startsWith("NACK s9 502 "), line);
        gw.assertRefusals("send_nacked", 1);
    }
}
