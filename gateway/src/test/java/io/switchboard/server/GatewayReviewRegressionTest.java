package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Regressions for defects found in review of the gateway core. */
class GatewayReviewRegressionTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void tearDown() {
        gw.close();
    }

    @Test
    void shouldCloseAConnectionWhoseByeCannotBeFlushedAfterTheGracePeriod() throws Exception {
        gw.config.heartbeatMinSec = 5;
        gw.config.idleGraceSec = 0;
        SwbTestClient c = startAndFillTheSocketOf("stuck", "hb=5");
        gw.advanceSec(11); // idle: BYE 408 is queued behind megabytes the client never reads
        ApiClient.Response info = gw.api().get("/v1/clients/stuck");
        assertTrue(info.status() == 404 || !info.json().get("online").asBoolean(),
                "the session lets go of the connection at once: " + info.body());
        assertEquals(1, gw.server().guard().open(), "the socket is still open while the BYE waits");
        gw.advanceSec(6);
        GatewayFixture.await(() -> gw.server().guard().open() == 0, "the connection is closed after the grace");
    }

    @Test
    void shouldLetGoOfAClientThatSaysByeAtOnceAndCloseItAfterTheGraceIfItDoesNotRead() throws Exception {
        SwbTestClient c = startAndFillTheSocketOf("leaving", "hb=0");
        c.send("BYE"); // and reads nothing: what was written to it cannot all be flushed
        GatewayFixture.await(() -> {
            try {
                return gw.api().get("/v1/clients/leaving").status() == 404;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "the session lets go of a connection that said BYE at once");
        assertEquals(404, gw.push("leaving", "after bye").status(), "not written to the closing socket as delivered");
        assertEquals(1, gw.server().guard().open(), "the socket is still open while its data waits");
        gw.advanceSec(6);
        GatewayFixture.await(() -> gw.server().guard().open() == 0, "closed after the grace, even with hb=0");
    }

    /**
     * Starts the gateway and says HELLO as {@code id} with a small receive buffer, then pushes 64 KiB messages the
     * client never reads until one is held back: the server's socket to it is full.
     */
    private SwbTestClient startAndFillTheSocketOf(String id, String hb) throws Exception {
        gw.config.windowMessages = 1024;
        gw.config.maxQueuedMessagesPerClient = 1024;
        gw.config.maxQueuedBytesPerClient = 16L * 1024 * 1024;
        gw.start();
        SwbTestClient c = gw.connectWithReceiveBuffer(4096);
        c.hello(id, hb);
        boolean heldBack = false;
        for (int i = 0; i < 160 && !heldBack; i++) {
            ApiClient.Response r = gw.api().post("/v1/clients/" + id + "/messages", new byte[64 * 1024]);
            assertEquals(200, r.status(), r.body());
            heldBack = !r.json().get("delivered").asBoolean();
        }
        assertTrue(heldBack, "the test needs the server's socket to be full");
        return c;
    }

    @Test
    void shouldRefuseMalformedPercentEncodingWith400AndKeepServingTheConnection() throws Exception {
        gw.start();
        // java.net.http refuses to send such URIs, so speak HTTP/1.1 by hand, both requests on one connection.
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", gw.server().apiPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("POST /v1/clients/%zz/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx"
                    + "DELETE /v1/clients/a?reason=% HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            int first = all.indexOf("HTTP/1.1 400");
            int second = all.indexOf("HTTP/1.1 400", first + 1);
            int third = all.indexOf("HTTP/1.1 200", second + 1);
            assertTrue(first >= 0 && second > first && third > second, all);
            assertTrue(all.contains("percent-encoding"), all);
        }
    }

    @Test
    void shouldKeepExactlyOneWelcomedConnectionWhenManyClaimTheSameIdAtOnce() throws Exception {
        gw.start();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 10; round++) {
                String id = "contested" + round;
                CountDownLatch go = new CountDownLatch(1);
                List<Future<SwbTestClient>> claims = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    claims.add(pool.submit(() -> {
                        SwbTestClient c = gw.connect();
                        go.await();
                        c.send("HELLO " + id);
                        return c;
                    }));
                }
                go.countDown();
                List<SwbTestClient> clients = new ArrayList<>();
                for (Future<SwbTestClient> f : claims) {
                    clients.add(f.get(10, TimeUnit.SECONDS));
                }
                // Settled: the server closed every connection it sent BYE 409, and one remains.
                long takeoversWanted = 3L * (round + 1); // three of the four claims lose, each with BYE 409
                GatewayFixture.await(() -> gw.server().metrics().takeovers.sum() == takeoversWanted
                        && gw.server().metrics().sessionsOnline.get() == 1, "round " + id + " settles on one session");
                int survivors = 0;
                for (SwbTestClient c : clients) {
                    if (endsWelcomed(c)) {
                        survivors++;
                    }
                }
                assertEquals(1, survivors, "round " + round + ": the newest claim wins, every other gets BYE 409");
                long online = gw.stats().get("sessions_online").asLong();
                assertEquals(1, online, "round " + round + ": exactly one session online");
                for (SwbTestClient c : clients) {
                    c.close();
                }
                GatewayFixture.await(() -> gw.server().metrics().sessionsOnline.get() == 0
                        && gw.server().guard().open() == 0, "all left");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Whether this connection ended welcomed (answers a PING) rather than taken over (BYE 409). */
    private static boolean endsWelcomed(SwbTestClient c) throws IOException {
        try {
            c.send("PING");
        } catch (IOException closedByServer) {
            // a loser's socket may already be reset; its BYE 409 is still in our receive buffer
        }
        String line = c.readLine();
        if (line.startsWith("WELCOME ")) {
            line = c.readLine();
        }
        if (line.startsWith("BYE 409")) {
            c.expectEof();
            return false;
        }
        assertEquals("PONG", line, "a welcomed connection answers PING");
        return true;
    }
}
