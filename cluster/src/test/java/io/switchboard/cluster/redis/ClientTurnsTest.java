package io.switchboard.cluster.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientTurnsTest {
    private final ClientTurns turns = new ClientTurns();
    private final List<String> started = new ArrayList<>();
    private final Map<String, Runnable> finish = new HashMap<>();

    private void push(String client, String name) {
        turns.inTurn(client, finished -> {
            started.add(name);
            finish.put(name, finished);
        });
    }

    @Test
    void shouldStartAClientsPushesOneAtATimeInTheOrderTheyCame() {
        push("alice", "a1");
        push("alice", "a2");
        push("alice", "a3");
        assertEquals(List.of("a1"), started);
        finish.get("a1").run();
        assertEquals(List.of("a1", "a2"), started);
        finish.get("a1").run(); // a second answer starts nothing more
        assertEquals(List.of("a1", "a2"), started);
        finish.get("a2").run();
        finish.get("a3").run();
        assertEquals(List.of("a1", "a2", "a3"), started);
        assertEquals(0, turns.clientsInProgress(), "nothing kept once every push was answered");
    }

    @Test
    void shouldLetPushesToOtherClientsGoSideBySide() {
        push("alice", "a1");
        push("bob", "b1");
        push("alice", "a2");
        assertEquals(List.of("a1", "b1"), started);
        finish.get("b1").run();
        assertEquals(List.of("a1", "b1"), started, "bob's answer does not start alice's next");
    }

    @Test
    void shouldMakeABatchItemTakeTheTurnOnlyWhenNoPushToItsClientIsInProgress() {
        assertTrue(turns.tryStart("alice"));
        assertFalse(turns.tryStart("alice"));
        push("alice", "a2");
        assertEquals(List.of(), started);
        turns.finisher("alice").run();
        assertEquals(List.of("a2"), started);
    }

    @Test
    void shouldRunALongChainOfPushesAnsweredAtOnceWithoutGoingDeeperOnTheStack() {
        // As while Redis is down: each push waiting is refused the moment it starts.
        push("alice", "first");
        int n = 200_000;
        int[] ran = {0};
        for (int i = 0; i < n; i++) {
            turns.inTurn("alice", finished -> {
                ran[0]++;
                finished.run();
            });
        }
        finish.get("first").run();
        assertEquals(n, ran[0]);
        assertEquals(0, turns.clientsInProgress());
    }
}
