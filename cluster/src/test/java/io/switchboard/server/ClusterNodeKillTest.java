package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.cluster.redis.RedisProcessAccess;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The promise of a 200 for a stored push across the death of the node that held the client: node b, a process of its
 * own, is killed with SIGKILL while its client has unacknowledged stored messages; the client reconnects to node a
 * and gets every answered message after the last one it acknowledged, in order, with the seq it was answered with.
 */
@Timeout(90)
class ClusterNodeKillTest {
    @Test
    void shouldLoseNoStoredMessageWhenTheNodeHoldingTheClientIsKilled() throws Exception {
        try (var redis = RedisProcessAccess.start(); GatewayFixture a = new GatewayFixture()) {
            a.config.cluster = redis.uri();
            a.config.nodeName = "a";
            a.config.clusterTimeoutMs = 500;
            a.config.seqOriginFromClock = true;
            a.start();
            List<Long> answered = new ArrayList<>();
            List<String> payloads = new ArrayList<>();
            long ackedSeq;
            try (ServerProcess b = ServerProcess.start("", List.of("-Xmx256m"), "--cluster", redis.uri(), "--node",
                    "b", "--cluster-timeout", "500")) {
                SwbTestClient k = SwbTestClient.connect("127.0.0.1", b.port(), null);
                k.hello("k");
                for (int i = 0; i < 20; i++) {
                    ApiClient.Response r = a.api().post("/v1/clients/k/messages?ttl=120", "m" + i);
                    assertEquals(200, r.status(), r.body());
                    assertTrue(r.json().get("delivered").asBoolean(), "pushed through a, delivered by b: " + r.body());
                    answered.add(r.json().get("seq").asLong());
                    payloads.add("m" + i);
                }
                for (int i = 0; i < 20; i++) {
                    assertEquals(answered.get(i), k.readMsg().seq());
                }
                ackedSeq = answered.get(4);
                k.ack(ackedSeq);
                k.sync();

                b.kill();
                k.expectEof();

                // While b's lease lapses, pushes get 503 (b does not answer); after, they are kept for k.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                int kept = 0;
                while (kept < 5 && System.nanoTime() < deadline) {
                    ApiClient.Response r = a.api().post("/v1/clients/k/messages?ttl=120", "after" + kept);
                    if (r.status() == 200) {
                        assertTrue(!r.json().get("delivered").asBoolean(), r.body());
                        answered.add(r.json().get("seq").asLong());
                        payloads.add("after" + kept);
                        kept++;
                    } else {
                        assertEquals(503, r.status(), r.body());
                        Thread.sleep(200);
                    }
                }
                assertEquals(5, kept, "pushes kept once b's lease lapsed");
            }

            SwbTestClient back = a.connect();
            back.hello("k", "resume=" + ackedSeq);
            for (int i = 5; i < answered.size(); i++) {
                SwbTestClient.Msg m = back.readMsg();
                assertEquals(answered.get(i), m.seq(), "message " + i);
                assertEquals(payloads.get(i), m.text());
            }
            assertTrue(back.silentFor(300), "nothing beyond the answered messages");
        }
    }
}
