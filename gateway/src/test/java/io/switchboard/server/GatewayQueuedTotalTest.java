package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --max-queued-total} over real sockets: stored pushes to many offline clients fill the budget, the next one
 * is answered 503 naming it, and the bytes come back as clients take their messages.
 */
@Timeout(60)
class GatewayQueuedTotalTest {
    private static final int PAYLOAD_BYTES = 60_000;
    private static final long BUDGET_BYTES = 1 << 20;
    /** 17 payloads of 60,000 bytes fit in 1 MiB, 18 do not. */
    /** What each message costs the budget beyond its payload (DeliveryQueue.MESSAGE_OVERHEAD_BYTES). */
    private static final int MESSAGE_COST = 64;
    private static final int FITTING = (int) (BUDGET_BYTES / (PAYLOAD_BYTES + MESSAGE_COST));

    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldAnswer503NamingTheBudgetOnceQueuedBytesReachIt() throws Exception {
        gw.config.maxQueuedTotalBytes = BUDGET_BYTES;
        gw.start();
        String payload = "x".repeat(PAYLOAD_BYTES);

        int accepted = 0;
        ApiClient.Response refused = null;
        for (int i = 0; i < 100 && refused == null; i++) {
            ApiClient.Response r = gw.api().post("/v1/clients/off" + (i % 200) + "/messages?ttl=3600", payload);
            if (r.status() == 200) {
                accepted++;
            } else {
                refused = r;
            }
        }
        assertEquals(FITTING, accepted, "pushes accepted until the budget is used");
        assertEquals(503, refused.status(), refused.body());
        assertEquals(503, refused.json().get("status").asInt());
        assertTrue(refused.json().get("error").asText().contains("--max-queued-total"), refused.body());
        gw.assertRefusals("queued_total", 1);
        assertQueuedBytes((long) FITTING * (PAYLOAD_BYTES + MESSAGE_COST));

        // off0 connects and acknowledges its message: its bytes return to the budget, and a push fits again.
        SwbTestClient c = gw.hello("off0");
        SwbTestClient.Msg m = c.readMsg();
        c.ack(m.seq());
        c.sync();
        assertQueuedBytes((long) (FITTING - 1) * (PAYLOAD_BYTES + MESSAGE_COST));
        assertEquals(200, gw.api().post("/v1/clients/off0/messages?ttl=3600", payload).status());
    }

    private void assertQueuedBytes(long expected) throws Exception {
        JsonNode stats = gw.stats();
        assertEquals(expected, stats.get("queued_bytes").asLong(), stats.toString());
        assertEquals(BUDGET_BYTES, stats.get("max_queued_total_bytes").asLong());
        String metrics = gw.api().get("/metrics").body();
        assertTrue(metrics.lines().anyMatch(("switchboard_queued_bytes " + expected)::equals), metrics);
        assertTrue(metrics.lines().anyMatch(("switchboard_max_queued_total_bytes " + BUDGET_BYTES)::equals), metrics);
    }
}
