package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.clock.ManualClock;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pushes to one client reach it in the order they were made, also when its session moves to another loop between
 * them (the client connected again, its new connection on the other loop): the earlier push, queued on the loop the
 * session left, follows it there after the later one went there directly, and waits for nothing but must not be
 * overtaken. Each loop is an EmbeddedChannel's, run explicitly, so the interleaving is exact.
 */
class PushOrderAcrossLoopsTest {
    private final ManualClock clock = new ManualClock();
    private final SessionRegistry registry = new SessionRegistry(
            new SessionRegistry.Limits(8, 100, 1 << 20, 1 << 16, 3600, false, 1000), new GatewayMetrics());
    private final EmbeddedChannel loop0 = new EmbeddedChannel();
    private final EmbeddedChannel loop1 = new EmbeddedChannel();
    private final SessionShard shard0 = registry.addShard(loop0.eventLoop(), clock);
    private final SessionShard shard1 = registry.addShard(loop1.eventLoop(), clock);
    private final FakeLink second = new FakeLink();
    private final List<CompletableFuture<PushResult>> later = new ArrayList<>();

    @BeforeEach
    void connectOnLoop0() {
        FakeConnections.connect(registry, "alice", new FakeLink(), shard0, clock);
        runLoops();
    }

    @AfterEach
    void tearDown() {
        loop0.finishAndReleaseAll();
        loop1.finishAndReleaseAll();
    }

    @Test
    void shouldDeliverAnEarlierPushFirstWhenTheSessionMovedToAnotherLoopBetweenThem() throws Exception {
        // The new connection's hand-over is queued on loop 0; a push made once it ran goes to loop 1 directly.
        FakeConnections.connect(registry, "alice", second, shard1, clock);
        loop0.eventLoop().execute(() -> later.add(registry.pushes().push("alice", bytes("2"), 0)));
        CompletableFuture<PushResult> earlier = registry.pushes().push("alice", bytes("1"), 0); // queued behind it
        runLoops();

        assertEquals(List.of("1", "2"), second.written);
        assertEquals(200, earlier.get().status());
        assertEquals(200, later.get(0).get().status());
        assertEquals(earlier.get().seq() + 1, later.get(0).get().seq(), "the later push took the next seq");
        assertEquals(0, registry.turns().waiting(), "nothing left waiting for its turn");
    }

    @Test
    void shouldDeliverAnEarlierBatchFirstWhenTheSessionMovedToAnotherLoopBetweenThem() throws Exception {
        FakeConnections.connect(registry, "alice", second, shard1, clock);
        loop0.eventLoop().execute(() -> later.add(registry.pushes().push("alice", bytes("2"), 0)));
        CompletableFuture<PushResult[]> batch = registry.pushes().pushBatch(
                List.of(new PushRequest("alice", bytes("1a"), 0), new PushRequest("alice", bytes("1b"), 0)));
        runLoops();

        assertEquals(List.of("1a", "1b", "2"), second.written);
        assertEquals(batch.get()[1].seq() + 1, later.get(0).get().seq(), "the later push took the next seq");
        assertEquals(0, registry.turns().waiting(), "nothing left waiting for its turn");
    }

    private void runLoops() {
        for (int i = 0; i < 3; i++) {
            loop0.runPendingTasks();
            loop1.runPendingTasks();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
