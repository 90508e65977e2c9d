package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** /v1/stats estimates per session only when there are enough sessions for them to mean something. */
class StatsCollectorTest {
    @Test
    void shouldGiveNoPerSessionEstimateWithOneSession() {
        ObjectNode mem = ApiHandler.JSON.createObjectNode();

        StatsCollector.perSessionEstimates(mem, 40_000_000, 90_000_000, 1, 1);

        assertTrue(mem.get("heap_per_session_bytes").isNull(), "not the whole heap for one session");
        assertTrue(mem.get("rss_per_connection_bytes").isNull());
        assertTrue(mem.path("per_session_note").asText().contains("at least 100"));
    }

    @Test
    void shouldEstimatePerSessionWithManySessions() {
        ObjectNode mem = ApiHandler.JSON.createObjectNode();

        StatsCollector.perSessionEstimates(mem, 40_000_000, 90_000_000, 10_000, 10_000);

        assertEquals(4_000, mem.get("heap_per_session_bytes").asLong());
        assertEquals(9_000, mem.get("rss_per_connection_bytes").asLong());
        assertFalse(mem.has("per_session_note"));
    }

    @Test
    void shouldGiveNoRssEstimateWhenTheRssIsUnknown() {
        ObjectNode mem = ApiHandler.JSON.createObjectNode();

        StatsCollector.perSessionEstimates(mem, 40_000_000, -1, 10_000, 10_000);

        assertEquals(4_000, mem.get("heap_per_session_bytes").asLong());
        assertTrue(mem.get("rss_per_connection_bytes").isNull());
    }
}
