package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.switchboard.upstream.UpstreamSinks;
import io.switchboard.upstream.WebhookSink;
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
    void anMqttPublishGoesUpstreamWithItsTopicAndIsPubackedOnlyOnceAccepted() throws Exception {
        gw.config.mqttPort = 0;
        gw.start();
        MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4);
        try {
            assertEquals(0, m.connect("meter", true));
            m.publish("meters/m1", "42 kWh", 1, 7);
            JsonNode body = posted.poll(5, TimeUnit.SECONDS);
            assertTrue(body != null, "the webhook got the PUBLISH");
            JsonNode msg = body.get("messages").get(0);
            assertEquals("meter", msg.get("client").asText());
            assertEquals("meters/m1", msg.get("topic").asText());
            assertEquals("7", msg.get("id").asText());
            assertEquals("42 kWh", new String(Base64.getDecoder().decode(msg.get("payload_b64").asText()),
                    StandardCharsets.UTF_8));
            m.expectSilence(300); // no PUBACK before the backend answered
            answerGate.countDown();
            MqttTestClient.Packet ack = m.expect(MqttTestClient.PUBACK);
            assertEquals(7, ((ack.body()[0] & 0xFF) << 8) | (ack.body()[1] & 0xFF));
        } finally {
            m.close();
        }
    }

    @Test
    void qos0PublishesWaitingForTheUpstreamDoNotTakeTheRoomOfQos1Ones() throws Exception {
        gw.config.mqttPort = 0;
        gw.config.maxPendingSendsPerClient = 2; // the Receive Maximum the CONNACK announces
        gw.start();
        try (MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 5)) {
            assertEquals(0, m.connect("sensor", true));
            m.publish("telemetry/t", "20.1", 0, 0);
            m.publish("telemetry/t", "20.2", 0, 0);
            m.publish("alarms/fire", "!", 1, 9); // no QoS 1 or 2 in flight: within Receive Maximum
            m.expectSilence(300); // waits for the backend, not refused 0x97
            answerGate.countDown();
            MqttTestClient.Packet ack = m.expect(MqttTestClient.PUBACK);
            assertEquals(9, ack.body()[1]);
            assertTrue(ack.body().length == 2 || ack.body()[2] == 0, "success");
        }
        gw.assertRefusals("send_too_many_pending", 0);
    }

    @Test
    void a311ClientWithMorePublishesInFlightThanMaxPendingSendsIsReadMoreSlowlyNotClosed() throws Exception {
        // 3.1.1 has no Receive Maximum: a device may send many QoS 1 PUBLISHes at once (after a reconnect, say).
        // Closed at the limit, it sent them all again at every reconnect, and never got past them.
        gw.config.mqttPort = 0;
        gw.config.maxPendingSendsPerClient = 2;
        gw.start();
        try (MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4)) {
            assertEquals(0, m.connect("meter", true));
            for (int id = 1; id <= 5; id++) {
                m.publish("meters/m1", "kWh " + id, 1, id);
            }
            assertTrue(posted.poll(5, TimeUnit.SECONDS) != null, "the webhook got the first");
            m.expectSilence(300); // no PUBACK before the backend answered, and the connection open
            answerGate.countDown();
            for (int id = 1; id <= 5; id++) {
                MqttTestClient.Packet ack = m.expect(MqttTestClient.PUBACK);
                assertEquals(id, ack.body()[1], "in order, each once the backend has it");
            }
        }
        gw.assertRefusals("send_too_many_pending", 0);
        assertEquals(5, gw.stats().get("upstream").get("offered").asLong());
    }

    @Test
    void topicMessagesQueuedWhileA311ClientsInputIsHeldBackAreSentOnceItIsReleased() throws Exception {
        // Its write buffer drained while its input was held back (that pump skipped): the messages left queued
        // waited for the next push, which on a quiet topic never came.
        gw.config.mqttPort = 0;
        gw.config.maxPendingSendsPerClient = 1;
        gw.start();
        int sent = 400;
        try (MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4, 8 * 1024)) {
            assertEquals(0, m.connect("meter", true));
            m.subscribeAndWait(1, "news", 0);
            m.publish("meters/m1", "42 kWh", 1, 7); // waits for the backend: its input held back
            assertTrue(posted.poll(5, TimeUnit.SECONDS) != null, "the webhook got it, and has not answered");
            String big = "n".repeat(32 * 1024);
            for (int i = 0; i < sent; i++) { // 12.8 MB: the socket full, the rest queued (or dropped past the queue)
                assertEquals(200, gw.api().post("/v1/topics/news/messages", big).status());
            }
            int received = 0;
            try {
                for (MqttTestClient.Packet p = m.read(); ; p = m.read()) { // all it can read, until silence
                    received += p.type() == MqttTestClient.PUBLISH ? 1 : 0;
                    m.readTimeout(500);
                }
            } catch (java.net.SocketTimeoutException silence) {
                // its write buffer drained while the input was held back
            }
            m.readTimeout(5_000);
            answerGate.countDown(); // the PUBACK comes, the input is read again, and what waited goes out
            long dropped = gw.stats().get("refusals").path("topic_queue_full").asLong();
            assertTrue(received + dropped < sent, "some were still queued: " + received + " + " + dropped);
            while (received + dropped < sent) {
                MqttTestClient.Packet p = m.read();
                received += p.type() == MqttTestClient.PUBLISH ? 1 : 0;
            }
            assertEquals(sent, received + dropped);
        }
    }

    @Test
    void a311ClientClosedBecauseTheBackendIsUnavailableHasNoWillPublished() throws Exception {
        // It is closed only so that it sends its message again once the backend is back (3.1.1 cannot be told
        // otherwise): the device is not gone, and its subscribers must not be told it is (as after a drain).
        status.set(503);
        answerGate.countDown();
        gw.config.mqttPort = 0;
        gw.upstream = UpstreamSinks.parse("webhook:http://127.0.0.1:" + webhook.getAddress().getPort() + "/hook",
                new WebhookSink.Options(100, 5, 1, 100, 5_000, 10_000, 16L << 20, null, 10_000, 2_000, 4));
        gw.start();
        try (MqttTestClient watcher = MqttTestClient.open(gw.server().mqttPort(), 4);
             MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 4)) {
            assertEquals(0, watcher.connect("watcher", true));
            watcher.subscribeAndWait(1, "status/#", 0);
            assertEquals(0, m.connectWithWill("meter", "status/meter", "offline", false, 0));
            m.publish("meters/m1", "42 kWh", 1, 7);
            m.expectEof(); // closed: the client sends it again when it comes back
            watcher.expectSilence(500);
        }
    }

    @Test
    void aQos2PublishSentAgainAfterAReconnectGetsItsPubrecOnlyOnceTheBackendHasIt() throws Exception {
        gw.config.mqttPort = 0;
        gw.start();
        MqttTestClient first = MqttTestClient.open(gw.server().mqttPort(), 4);
        MqttTestClient again = MqttTestClient.open(gw.server().mqttPort(), 4);
        try {
            assertEquals(0, first.connect("meter", false)); // a persistent session
            first.publish("meters/m1", "42 kWh", 2, 7);
            assertTrue(posted.poll(5, TimeUnit.SECONDS) != null, "the webhook got it, and has not answered");
            first.close(); // dropped before any PUBREC
            gw.awaitOffline("meter");
            assertEquals(0, again.connect("meter", false));
            again.publish("meters/m1", "42 kWh", 2, 7, true); // sent again with DUP, as MQTT asks
            again.expectSilence(300); // the backend has not answered: no PUBREC, which would end the client's copy
            answerGate.countDown();
            MqttTestClient.Packet rec = again.expect(MqttTestClient.PUBREC);
            assertEquals(7, ((rec.body()[0] & 0xFF) << 8) | (rec.body()[1] & 0xFF));
        } finally {
            first.close();
            again.close();
        }
    }

    @Test
    void aRefusedMqttPublishIsAV5ReasonCodeAndAPositiveAcknowledgementIn311() throws Exception {
        status.set(400);
        answerGate.countDown();
        gw.config.mqttPort = 0;
        gw.start();
        try (MqttTestClient v5 = MqttTestClient.open(gw.server().mqttPort(), 5);
             MqttTestClient v311 = MqttTestClient.open(gw.server().mqttPort(), 4)) {
            assertEquals(0, v5.connect("five", true));
            v5.publish("t/x", "a", 1, 3);
            MqttTestClient.Packet ack = v5.expect(MqttTestClient.PUBACK);
            assertEquals(0x80, ack.body()[2] & 0xFF, "unspecified error");
            assertEquals(0, v311.connect("three", true));
            v311.publish("t/x", "b", 1, 4);
            // 3.1.1 cannot refuse: closing would have the client send it again on every reconnect, refused each time.
            assertEquals(4, v311.expect(MqttTestClient.PUBACK).body()[1]);
            v311.publish("t/x", "c", 2, 5);
            assertEquals(5, v311.expect(MqttTestClient.PUBREC).body()[1], "QoS 2 likewise");
        }
        gw.assertRefusals("send_nacked", 3);
    }

    @Test
    void aDrainWaitsForTheUpstreamsAnswersToAClientsSendsBeforeSendingItAway() throws Exception {
        gw.config.drainPeriodSec = 1;
        gw.start();
        SwbTestClient c = gw.hello("dev3");
        c.sendRaw("SEND s1 5\nhello\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(posted.poll(5, TimeUnit.SECONDS) != null, "the webhook has it, not answered yet");
        assertEquals(202, gw.api().post("/v1/drain", "").status());
        c.sendRaw("SEND s2 5\nworld\n".getBytes(StandardCharsets.US_ASCII)); // not taken while the drain waits
        assertTrue(c.silentFor(300), "no answer to s2");
        answerGate.countDown();
        assertEquals("SENT s1", c.readLine(), "the answer comes before the goodbye");
        assertTrue(c.readLine().startsWith("BYE 503 draining"), "s2 unanswered: the client sends it again");
        assertTrue(posted.isEmpty(), "the webhook got s1 only");
    }

    @Test
    void aDrainWaitsForThePubacksOfAnMqttClientsPublishesAndTakesNoNewOne() throws Exception {
        gw.config.drainPeriodSec = 1;
        gw.config.mqttPort = 0;
        gw.start();
        try (MqttTestClient m = MqttTestClient.open(gw.server().mqttPort(), 5)) {
            assertEquals(0, m.connect("meter", true));
            m.publish("meters/m1", "1", 1, 7);
            assertTrue(posted.poll(5, TimeUnit.SECONDS) != null, "the webhook has it, not answered yet");
            assertEquals(202, gw.api().post("/v1/drain", "").status());
            m.publish("meters/m1", "2", 1, 8); // not taken while the drain waits: sent again after reconnecting
            m.expectSilence(300);
            answerGate.countDown();
            assertEquals(7, m.expect(MqttTestClient.PUBACK).body()[1], "the answer comes before the goodbye");
            MqttTestClient.Packet bye = m.expect(MqttTestClient.DISCONNECT);
            assertEquals(0x8B, bye.body()[0] & 0xFF, "server shutting down");
        }
        assertTrue(posted.isEmpty(), "the second PUBLISH never reached the webhook");
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
        // The webhook's own counts, for the operator: why, and how much is held.
        JsonNode up = gw.stats().get("upstream");
        assertEquals(1, up.get("offered").asLong(), up.toString());
        assertEquals(1, up.get("refused_backend_refused").asLong(), up.toString());
        assertEquals(0, up.get("buffered_messages").asLong(), up.toString());
        String metrics = gw.api().get("/metrics").body();
        assertTrue(metrics.contains("switchboard_upstream_refused_total{reason=\"backend_refused\"} 1\n"), metrics);
        assertTrue(metrics.contains("switchboard_upstream_batches_posted_total 1\n"), metrics);
        assertTrue(metrics.contains("switchboard_upstream_buffered_bytes 0\n"), metrics);
    }
}
