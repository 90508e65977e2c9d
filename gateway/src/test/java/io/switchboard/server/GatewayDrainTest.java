package io.switchboard.server;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Draining: clients are sent away with spread-out retry hints, new ones refused, then the server stops. */
@Timeout(60)
class GatewayDrainTest {
    private static final Pattern DRAIN_BYE = Pattern.compile("BYE 503 draining retry=(\\d+)");

    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldSendEveryClientAwayWithRetryWithinTheSpreadAndThenStop() throws Exception {
        gw.config.drainPeriodSec = 1;
        gw.config.reconnectSpreadMs = 5000;
        gw.start();
        List<SwbTestClient> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(gw.hello("c" + i));
        }

        ApiClient.Response r = gw.api().post("/v1/drain", "");
        assertEquals(202, r.status(), r.body());
        assertTrue(r.json().get("draining").asBoolean());
        assertTrue(gw.server().draining());

        for (SwbTestClient c : clients) {
            long retryMs = drainRetryMs(c.readLine());
            assertTrue(retryMs >= 1000 && retryMs < 1000 + 5000, "retry " + retryMs + " outside [1000, 6000)");
            c.expectEof();
        }
        assertNotWelcomed();

        gw.server().drained().get(30, SECONDS);
        assertThrows(ConnectException.class, gw::connect, "a drained server accepts nothing");
        assertThrows(IOException.class, () -> gw.api().get("/healthz"), "the API stopped with the server");
    }

    @Test
    void shouldReportDrainingOnHealthzAndRefusePushesWhileDraining() throws Exception {
        // One loop and three clients over three one-second slices: the last client is sent away two seconds after
        // the first, which keeps the API up meanwhile.
        gw.config.eventLoops = 1;
        gw.config.drainPeriodSec = 3;
        gw.config.reconnectSpreadMs = 0;
        gw.start();
        ApiClient.Response before = gw.api().get("/healthz");
        assertEquals(200, before.status());
        assertEquals("ok", before.json().get("status").asText());
        SwbTestClient a = gw.hello("a");
        SwbTestClient b = gw.hello("b");
        SwbTestClient c = gw.hello("c");

        assertEquals(202, gw.api().post("/v1/drain", "").status());
        ApiClient.Response health = gw.api().get("/healthz");
        assertEquals(503, health.status());
        assertEquals("draining", health.json().get("status").asText());
        ApiClient.Response push = gw.push("b", "too late");
        assertEquals(503, push.status());
        assertEquals(503, push.json().get("status").asInt());
        assertEquals(503, gw.api().post("/v1/broadcast", "too late").status());
        assertTrue(gw.stats().get("draining").asBoolean());

        for (SwbTestClient client : List.of(a, b, c)) {
            assertEquals("BYE 503 draining retry=1000", client.readLine(), "no spread: exactly the base retry");
            client.expectEof();
        }
        gw.server().drained().get(30, SECONDS);
    }

    @Test
    void shouldDrainAServerWithoutClients() throws Exception {
        gw.config.drainPeriodSec = 1;
        gw.start();
        assertEquals(202, gw.api().post("/v1/drain", "").status());
        gw.server().drained().get(30, SECONDS);
        assertThrows(ConnectException.class, gw::connect);
    }

    @Test
    void shouldAnswerASecondDrainRequestWithoutStartingAgain() throws Exception {
        gw.config.drainPeriodSec = 1;
        gw.config.eventLoops = 1;
        gw.start();
        SwbTestClient a = gw.hello("a");
        assertEquals(gw.server().drain(), gw.server().drain(), "drain is idempotent");
        a.expectLine("BYE 503 draining retry=");
        a.expectEof();
        gw.server().drained().get(30, SECONDS);
    }

    @Test
    void shouldSendAwayConnectionsThatHaveNotSaidHelloYet() throws Exception {
        gw.config.drainPeriodSec = 1;
        gw.start();
        SwbTestClient silent = gw.connect();
        GatewayFixture.await(() -> gw.server().guard().open() == 1, "the server accepted the connection");
        gw.server().drain();
        drainRetryMs(silent.readLine());
        silent.expectEof();
        gw.server().drained().get(30, SECONDS);
    }

    @Test
    void shouldRefuseHelloSentDuringTheDrainByAConnectionAcceptedBefore() throws Exception {
        // One loop, two connections, two one-second slices: the welcomed client goes in the first slice, the
        // silent connection in the second, so it is still open when it says HELLO.
        gw.config.eventLoops = 1;
        gw.config.drainPeriodSec = 2;
        gw.start();
        SwbTestClient welcomed = gw.hello("welcomed");
        SwbTestClient silent = gw.connect();
        GatewayFixture.await(() -> gw.server().guard().open() == 2, "the server accepted both connections");

        gw.server().drain();
        drainRetryMs(welcomed.readLine());
        silent.send("HELLO latecomer");
        drainRetryMs(silent.readLine());
        silent.expectEof();
        gw.server().drained().get(30, SECONDS);
    }

    /** A connection attempted during the drain is never welcomed: refused, reset, or told to come back. */
    private void assertNotWelcomed() {
        SwbTestClient late;
        try {
            late = gw.connect();
        } catch (IOException refused) {
            return; // the listener is closed
        }
        try {
            late.send("HELLO late");
            String line = late.readLine();
            if (line != null) {
                drainRetryMs(line);
            }
        } catch (IOException reset) {
            // accepted by the kernel just before the listener closed, then reset: not welcomed either
        }
    }

    private static long drainRetryMs(String line) {
        Matcher m = DRAIN_BYE.matcher(String.valueOf(line));
        assertTrue(m.matches(), "expected 'BYE 503 draining retry=<ms>' but got '" + line + "'");
        return Long.parseLong(m.group(1));
    }
}
