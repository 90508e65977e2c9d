package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A gateway process with a 96 MiB heap and the default {@code --max-queued-total} (a quarter of it) takes 3,000
 * stored pushes of 60 KB to 200 offline clients, about twice what the heap holds: it answers 503 beyond the budget
 * instead of running out of memory, and keeps answering. {@code -XX:+ExitOnOutOfMemoryError} makes an OOM a dead
 * process, which the test would see.
 */
@Timeout(120)
class GatewaySmallHeapProcessTest {

    @Test
    void shouldRefuseStoredPushesBeyondTheBudgetInsteadOfRunningOutOfHeap() throws Exception {
        try (ServerProcess server = ServerProcess.start("", List.of("-Xmx96m"), "--event-loops", "2");
             ApiClient api = new ApiClient(server.apiPort(), null)) {
            byte[] payload = new byte[60_000];
            int accepted = 0;
            int refused = 0;
            for (int i = 0; i < 3000; i++) {
                ApiClient.Response r = api.post("/v1/clients/offline" + (i % 200) + "/messages?ttl=3600", payload);
                if (r.status() == 200) {
                    accepted++;
                } else {
                    assertEquals(503, r.status(), r.body());
                    assertTrue(r.body().contains("--max-queued-total"), r.body());
                    refused++;
                }
            }
            assertTrue(accepted > 100 && refused > 1000, accepted + " accepted, " + refused + " refused");
            assertTrue(server.alive(), "the server is alive\n" + server.output());
            assertEquals(200, api.get("/healthz").status());
            JsonNode stats = api.get("/v1/stats").json();
            long budget = stats.get("max_queued_total_bytes").asLong();
            assertTrue(budget > 0 && budget <= (96L << 20) / 4, stats.toString());
            assertEquals(accepted * (60_000L + 64), stats.get("queued_bytes").asLong(), stats.toString()); // payload and message
            assertEquals(refused, stats.path("refusals").path("queued_total").asLong(), stats.toString());
        }
    }
}
