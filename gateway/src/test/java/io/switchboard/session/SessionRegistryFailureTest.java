package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoop;
import io.switchboard.clock.ManualClock;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.ClientInfo;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import io.switchboard.service.Reach;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The registry as the API's push service: a task that throws on a session's loop completes the caller's future
 * exceptionally (counted as a loop error) instead of leaving it, and every later answer on its API connection,
 * pending forever. Each loop is an EmbeddedChannel's, run explicitly.
 */
class SessionRegistryFailureTest {
    private final TwoLoops loops = new TwoLoops();
    private final GatewayMetrics metrics = loops.metrics;
    private final SessionRegistry registry = loops.registry;
    private final ManualClock clock = loops.clock;
    private final FakeLink bad = new FakeLink();
    private final FakeLink good = new FakeLink();

    @BeforeEach
    void connectOneClientPerLoop() {
        FakeConnections.connect(registry, "bad", bad, loops.shard0, clock);
        FakeConnections.connect(registry, "good", good, loops.shard1, clock);
        runLoops();
    }

    @AfterEach
    void tearDown() {
        loops.close();
    }

    @Test
    void shouldFailPushWhenWritingToTheConnectionThrows() {
        bad.failWrites = true;
        CompletableFuture<PushResult> f = registry.pushes().push("bad", bytes("x"), 0);
        runLoops();

        assertFailedWith(IllegalStateException.class, f);
        assertEquals(1, metrics.loopErrors.sum());
    }

    @Test
    void shouldFailBatchWhenOneLoopsShareThrowsWhileTheOtherLoopDeliversItsShare() {
        bad.failWrites = true;
        CompletableFuture<PushResult[]> f = registry.pushes().pushBatch(List.of(new PushRequest("good", bytes("1"), 0),
                new PushRequest("bad", bytes("2"), 0)));
        runLoops();

        assertFailedWith(IllegalStateException.class, f);
        assertEquals(List.of("1"), good.written);
        assertEquals(1, metrics.loopErrors.sum());
    }

    @Test
    void shouldFailInfoWhenReadingTheConnectionThrows() {
        bad.failAddress = true;
        CompletableFuture<ClientInfo> f = registry.pushes().info("bad");
        runLoops();

        assertFailedWith(IllegalStateException.class, f);
        assertEquals(1, metrics.loopErrors.sum());
    }

    @Test
    void shouldFailDisconnectWhenClosingTheConnectionThrows() {
        bad.failClose = true;
        CompletableFuture<Boolean> f = registry.pushes().disconnect("bad", 503, "bye");
        runLoops();

        assertFailedWith(IllegalStateException.class, f);
        assertEquals(1, metrics.loopErrors.sum());
    }

    @Test
    void shouldFailBroadcastOnlyAfterEveryLoopDidItsShare() {
        bad.failWrites = true;
        CompletableFuture<Reach> f = registry.pushes().broadcast(bytes("all"));
        runLoops();

        assertFailedWith(IllegalStateException.class, f);
        assertEquals(List.of("all"), good.written, "the healthy loop still delivered");
        assertEquals(1, metrics.loopErrors.sum());
    }

    @Test
    void shouldKeepAnsweringOnTheLoopAfterAFailedTask() throws Exception {
        bad.failAddress = true;
        CompletableFuture<ClientInfo> failed = registry.pushes().info("bad");
        runLoops();
        CompletableFuture<PushResult> later = registry.pushes().push("good", bytes("y"), 0);
        CompletableFuture<Boolean> gone = registry.pushes().disconnect("nobody", 503, "bye");
        runLoops();

        assertTrue(failed.isCompletedExceptionally());
        assertEquals(200, later.get().status());
        assertEquals(false, gone.get());
    }

    @Test
    void shouldAnswerInsteadOfThrowingWhenASessionsLoopHasStopped() throws Exception {
        DefaultEventLoop stopping = new DefaultEventLoop();
        try {
            SessionShard shard = registry.addShard(stopping, clock);
            stopping.submit(() -> FakeConnections.connect(registry, "late", new FakeLink(), shard, clock)).sync();
            stopping.submit(() -> { }).sync(); // the handshake's own tasks, if any, ran before this one
            assertTrue(registry.find("late") != null, "connected");
            stopping.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync(); // a server closing: the loop rejects tasks

            CompletableFuture<PushResult> push = registry.pushes().push("late", bytes("x"), 0);
            CompletableFuture<PushResult[]> batch = registry.pushes().pushBatch(
                    List.of(new PushRequest("good", bytes("1"), 0), new PushRequest("late", bytes("2"), 0)));
            CompletableFuture<Reach> all = registry.pushes().broadcast(bytes("all"));
            runLoops();

            for (CompletableFuture<?> f : List.of(push, batch, all)) {
                assertTrue(f.isDone(), "answered, not left pending");
                ExecutionException e = assertThrows(ExecutionException.class, f::get);
                assertInstanceOf(RejectedExecutionException.class, e.getCause());
            }
            assertEquals(List.of("1", "all"), good.written, "the running loop did its share");
        } finally {
            stopping.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    // ---- rig

    private void runLoops() {
        loops.run();
    }

    private static byte[] bytes(String s) {
        return TwoLoops.bytes(s);
    }

    private static void assertFailedWith(Class<? extends Throwable> type, CompletableFuture<?> f) {
        assertTrue(f.isDone(), "the future completed");
        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(type, e.getCause());
        assertSame(FakeLink.FAILURE_MESSAGE, e.getCause().getMessage());
    }
}
