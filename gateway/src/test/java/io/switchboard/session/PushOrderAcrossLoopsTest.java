package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
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
    private final TwoLoops loops = new TwoLoops();
    private final SessionRegistry registry = loops.registry;
    private final FakeLink second = new FakeLink();
    private final List<CompletableFuture<PushResult>> later = new ArrayList<>();

    @BeforeEach
    void connectOnLoop0() {
        FakeConnections.connect(registry, "alice", new FakeLink(), loops.shard0, loops.clock);
        loops.run();
    }

    @AfterEach
    void tearDown() {
        loops.close();
    }

    @Test
    void shouldDeliverAnEarlierPushFirstWhenTheSessionMovedToAnotherLoopBetweenThem() throws Exception {
        // The new connection's hand-over is queued on loop 0; a push made once it ran goes to loop 1 directly.
        FakeConnections.connect(registry, "alice", second, loops.shard1, loops.clock);
        loops.loop0.eventLoop().execute(() -> later.add(registry.pushes().push("alice", TwoLoops.bytes("2"), 0)));
        // Made before "2", queued on loop 0 behind the task that makes "2".
        CompletableFuture<PushResult> earlier = registry.pushes().push("alice", TwoLoops.bytes("1"), 0);
        loops.run();

        assertEquals(List.of("1", "2"), second.written);
        assertEquals(200, earlier.get().status());
        assertEquals(200, later.get(0).get().status());
        assertEquals(earlier.get().seq() + 1, later.get(0).get().seq(), "the later push took the next seq");
        assertEquals(0, registry.turns().waiting(), "nothing left waiting for its turn");
    }

    @Test
    void shouldDeliverAnEarlierBatchFirstWhenTheSessionMovedToAnotherLoopBetweenThem() throws Exception {
        FakeConnections.connect(registry, "alice", second, loops.shard1, loops.clock);
        loops.loop0.eventLoop().execute(() -> later.add(registry.pushes().push("alice", TwoLoops.bytes("2"), 0)));
        CompletableFuture<PushResult[]> batch = registry.pushes().pushBatch(
                List.of(new PushRequest("alice", TwoLoops.bytes("1a"), 0),
                        new PushRequest("alice", TwoLoops.bytes("1b"), 0)));
        loops.run();

        assertEquals(List.of("1a", "1b", "2"), second.written);
        assertEquals(batch.get()[1].seq() + 1, later.get(0).get().seq(), "the later push took the next seq");
        assertEquals(0, registry.turns().waiting(), "nothing left waiting for its turn");
    }

}
