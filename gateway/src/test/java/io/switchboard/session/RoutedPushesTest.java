package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.switchboard.metrics.Refusal;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Pushes another node routed here for one client, together ({@link Deliveries#pushAllIfHere}): all to the session one
 * look found, in their order, or, from the first that finds it gone on, none ("not here" for each: the sender asks
 * the cluster again for each, in order), never a later one to a session that appeared after an earlier one was
 * answered "not here".
 */
class RoutedPushesTest {
    private final TwoLoops loops = new TwoLoops();
    private final SessionRegistry registry = loops.registry;
    private final FakeLink link = new FakeLink();

    @AfterEach
    void tearDown() {
        loops.close();
    }

    @Test
    void shouldPushAllToTheSessionFoundInTheirOrder() {
        connectAlice();
        PushResult[] results = pushAll(item("1"), new PushRequest("alice", new byte[70_000], 0), item("2"));

        assertEquals(List.of("1", "2"), link.written);
        assertEquals(200, results[0].status());
        assertEquals(413, results[1].status(), "refused on its own, in its turn");
        assertEquals(results[0].seq() + 1, results[2].seq());
    }

    @Test
    void shouldAnswerNotHereForAllWhenNoSessionIsHere() {
        PushResult[] results = pushAll(item("1"), item("2"));

        assertArrayEquals(new PushResult[2], results);
    }

    @Test
    void shouldAnswerNotHereForAllWhenTheSessionFoundWentOfflineBeforeThey() {
        connectAlice();
        Session s = registry.find("alice");
        // The connection closes on the session's loop after the look found it, before the pushes run there.
        loops.loop0.eventLoop().execute(() -> registry.close(s, link, Refusal.TAKEN_OVER, 409, "bye"));
        PushResult[] results = pushAll(item("1"), item("2"));

        assertNull(results[0]);
        assertNull(results[1], "not pushed after an earlier one was not here");
        assertEquals(List.of(), link.written);
    }

    @Test
    void shouldAnswerEachOnce503WhenWritingToTheConnectionThrows() {
        connectAlice();
        link.failWrites = true;
        PushResult[] results = pushAll(item("1"), item("2"));

        assertEquals(PushResult.STORE_FAILED_STATUS, results[0].status());
        assertEquals(PushResult.STORE_FAILED_STATUS, results[1].status());
        assertEquals(2, loops.metrics.loopErrors.sum());
    }

    private void connectAlice() {
        FakeConnections.connect(registry, "alice", link, loops.shard0, loops.clock);
        loops.run();
    }

    private PushResult[] pushAll(PushRequest... items) {
        PushResult[] results = new PushResult[items.length];
        boolean[] answered = new boolean[items.length];
        registry.pushes().pushAllIfHere("alice", List.of(items), (r, k) -> {
            assertEquals(false, answered[k], "answered once");
            answered[k] = true;
            results[k] = r;
        });
        loops.run();
        assertArrayEquals(filled(items.length), answered, "every item answered");
        return results;
    }

    private static boolean[] filled(int n) {
        boolean[] all = new boolean[n];
        java.util.Arrays.fill(all, true);
        return all;
    }

    private static PushRequest item(String payload) {
        return new PushRequest("alice", TwoLoops.bytes(payload), 0);
    }
}
