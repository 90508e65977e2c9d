package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.service.PushResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A stored push's answer: given once, and its append timeout cancelled once the store answered. */
class StoreAnswerTest {
    private final List<Object> answers = new ArrayList<>();
    private final StoreAnswer answer = new StoreAnswer(PushResult.accepted(5, false), "a", answers::add,
            (id, e) -> answers.add(id + ": " + e.getMessage()));

    @Test
    void shouldCancelItsTimeoutWhenTheStoreAnswers() {
        CompletableFuture<Void> timer = new CompletableFuture<>();
        answer.timeout(timer);
        answer.done(null);

        assertTrue(timer.isCancelled(), "the answered push is no longer held by the loop's timer");
        assertEquals(List.of(PushResult.accepted(5, false)), answers);
    }

    @Test
    void shouldCancelATimeoutScheduledAfterTheStoreAnsweredAlready() {
        answer.done(null); // the store answered before the timeout was even set
        CompletableFuture<Void> timer = new CompletableFuture<>();
        answer.timeout(timer);

        assertTrue(timer.isCancelled());
    }

    @Test
    void shouldAnswer503OnceWhenTheTimeoutFiresFirst() {
        CompletableFuture<Void> timer = new CompletableFuture<>();
        answer.timeout(timer);
        answer.run(); // the timeout
        answer.done(null); // a late report changes nothing

        assertEquals(1, answers.size());
        assertTrue(answers.get(0).toString().startsWith("a: the store did not answer"), answers.toString());
    }
}
