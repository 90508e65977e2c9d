package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.config.GatewayServices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The disk store behind the gateway: stored pushes outlive a restart with their seqs; its bound; its readings. */
@Timeout(60)
class GatewayDiskStoreTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    private long push(String client, String payload, int ttl) throws Exception {
        ApiClient.Response r = gw.api().post("/v1/clients/" + client + "/messages?ttl=" + ttl, payload);
        assertEquals(200, r.status(), r.body());
        return r.json().get("seq").asLong();
    }

    @Test
    void storedPushesOutliveARestartWithTheirSeqsAndAcknowledgedOnesDoNot() throws Exception {
        gw.start();
        assertEquals(1, push("a", "one", 3600));
        assertEquals(2, push("a", "two", 3600));
        assertEquals(3, push("a", "three", 3600));
        assertEquals(1, push("b", "b-one", 3600));
        SwbTestClient a = gw.hello("a");
        for (int seq = 1; seq <= 3; seq++) {
            assertEquals(seq, a.readMsg().seq());
        }
        a.ack(1);
        a.sync();
        a.close(); // 2 and 3 were received but not acknowledged

        gw.restart();
        JsonNode stats = gw.stats();
        assertEquals(3, stats.path("store").path("recovered_messages").asLong(), stats.toString());
        assertEquals(2, stats.path("store").path("recovered_clients").asLong());
        SwbTestClient again = gw.hello("a");
        SwbTestClient.Msg two = again.readMsg();
        SwbTestClient.Msg three = again.readMsg();
        assertEquals(2, two.seq());
        assertEquals("two", two.text());
        assertEquals(3, three.seq());
        assertEquals("three", three.text());
        assertEquals(4, push("a", "four", 3600), "the seq goes on from the recovered ones");
        assertEquals(4, again.readMsg().seq());
        again.ack(4);
        again.sync();
        SwbTestClient b = gw.hello("b");
        assertEquals("b-one", b.readMsg().text());
    }

    @Test
    void aResumeAfterARestartSkipsWhatTheClientAlreadyHad() throws Exception {
        gw.start();
        push("a", "one", 3600);
        push("a", "two", 3600);
        SwbTestClient a = gw.hello("a");
        a.readMsg();
        a.readMsg();
        a.close(); // received both, acknowledged neither: the server cannot know

        gw.restart();
        SwbTestClient again = gw.hello("a", "resume=2");
        assertEquals(3, push("a", "three", 3600));
        SwbTestClient.Msg m = again.readMsg();
        assertEquals(3, m.seq(), "nothing before seq 3 is sent again");
    }

    @Test
    void aClientResumingAfterARestartOnAClockThatWentBackMissesNoStoredPush() throws Exception {
        gw.config.seqOriginFromClock = true;
        gw.start();
        long first = push("alice", "one", 3600);
        SwbTestClient a = gw.hello("alice");
        assertEquals(first, a.readMsg().seq());
        a.ack(first);
        a.sync();
        a.close(); // nothing of alice kept: only her records say which seqs she had
        GatewayFixture.await(() -> {
            try {
                return gw.api().get("/v1/clients/alice").status() == 404;
            } catch (java.io.IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "alice's session ended");
        gw.clock.advanceMs(-60_000); // restarted on a clock a minute behind (an RTC before NTP, a VM restored)
        gw.restart();
        long next = push("alice", "two", 3600);
        assertTrue(next > first, "the new session numbers above what the store read: " + next + " after " + first);
        SwbTestClient again = gw.hello("alice", "resume=" + first);
        assertEquals("two", again.readMsg().text(), "not taken for one she had");
    }

    @Test
    void pushesWithoutATtlAreNeverWritten() throws Exception {
        gw.start();
        SwbTestClient a = gw.hello("a");
        assertEquals(1, push("a", "live only", 0));
        assertEquals(1, a.readMsg().seq());
        JsonNode store = gw.stats().path("store");
        assertEquals("disk", store.path("kind").asText());
        assertEquals(0, store.path("records").asLong(), store.toString());
        assertEquals(0, store.path("fsyncs_total").asLong(), store.toString());
    }

    @Test
    void aStoredPushBeyondMaxStoreBytesIs507AndAcknowledgementsMakeRoom() throws Exception {
        gw.config.maxStoreBytes = 3 * 1000;
        gw.start();
        String payload = "x".repeat(900);
        int accepted = 0;
        ApiClient.Response refused = null;
        for (int i = 0; i < 10 && refused == null; i++) {
            ApiClient.Response r = gw.api().post("/v1/clients/a/messages?ttl=3600", payload);
            if (r.status() == 200) {
                accepted++;
            } else {
                refused = r;
            }
        }
        assertEquals(3, accepted);
        assertEquals(507, refused.status(), refused.body());
        assertTrue(refused.json().get("error").asText().contains("--max-store-bytes"), refused.body());
        gw.assertRefusals("store_full", 1);
        assertEquals(404, gw.api().post("/v1/clients/a/messages?ttl=0", payload).status(),
                "a push without a ttl is not stored, so not refused for the store (404: a is offline)");

        SwbTestClient a = gw.hello("a");
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, a.readMsg().seq());
        }
        a.ack(3);
        a.sync();
        GatewayFixture.await(() -> {
            try {
                return gw.stats().path("store").path("live_bytes").asLong() == 0;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "the store empties");
        assertEquals(200, gw.api().post("/v1/clients/a/messages?ttl=3600", payload).status());
    }

    @Test
    void theStoreShowsInStatsAndMetrics() throws Exception {
        gw.start();
        push("a", "one", 3600);
        JsonNode store = gw.stats().path("store");
        assertEquals(1, store.path("records").asLong(), store.toString());
        assertTrue(store.path("fsyncs_total").asLong() >= 1, store.toString());
        assertTrue(store.path("disk_bytes").asLong() > store.path("live_bytes").asLong(), store.toString());
        String metrics = gw.api().get("/metrics").body();
        assertTrue(metrics.contains("switchboard_store_records 1\n"), metrics);
        assertTrue(metrics.contains("switchboard_store_fsync_seconds_bucket{le=\"+Inf\"} "), metrics);
        assertTrue(metrics.contains("# TYPE switchboard_store_fsync_seconds histogram\n"), metrics);
    }

    @Test
    void aSecondGatewayOnTheSameDataDirectoryIsRefusedInOneLine() throws Exception {
        gw.start();
        var config = gw.config.build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> GatewayServer.start(config,
                new GatewayServices(gw.authenticator, gw.upstream, gw.clock)));
        assertTrue(e.getMessage().contains("is in use by another switchboard process"), e.getMessage());
        assertTrue(e.getMessage().contains("--data-dir"), e.getMessage());
    }

    @Test
    void theMemoryStoreKeepsNothingAcrossARestart() throws Exception {
        gw.config.store = "memory";
        gw.start();
        push("a", "one", 3600);
        gw.restart();
        assertEquals("memory", gw.stats().path("store").path("kind").asText());
        assertEquals(404, gw.api().get("/v1/clients/a").status());
    }
}
