package io.switchboard.protocol.swb;

import static io.switchboard.protocol.swb.SwbRig.out;
import static io.switchboard.protocol.swb.SwbRig.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.metrics.Refusal;
import io.switchboard.service.PushResult;
import io.switchboard.store.MessageStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The store seam: stored pushes (ttl > 0) are answered once the store kept them, and the store hears of acks. */
class StoreSeamTest {
    /** Records every call; appends complete only when the test says so. */
    static final class RecordingStore implements MessageStore {
        final List<String> calls = new ArrayList<>();
        final List<Appended> pending = new ArrayList<>();
        List<Stored> recovered = List.of();
        long recoveredLastSeq;

        @Override
        public void append(String clientId, long seq, long expiresAtMs, byte[] payload, Appended done) {
            calls.add("append " + clientId + " " + seq + " " + new String(payload, StandardCharsets.US_ASCII));
            pending.add(done);
        }

        @Override
        public void acknowledged(String clientId, long seq) {
            calls.add("ack " + clientId + " " + seq);
        }

        @Override
        public void forget(String clientId) {
            calls.add("forget " + clientId);
        }

        @Override
        public void recover(Recovery into) {
            if (!recovered.isEmpty()) {
                into.client("a", recoveredLastSeq, recovered);
            }
        }

        @Override
        public void close() {
        }
    }

    private final SwbRig rig = new SwbRig();
    private final RecordingStore store = new RecordingStore();

    @AfterEach
    void tearDown() {
        rig.close();
    }

    private AtomicReference<PushResult> push(String id, String payload, int ttl) {
        AtomicReference<PushResult> r = new AtomicReference<>();
        rig.registry.pushes().push(id, payload.getBytes(StandardCharsets.US_ASCII), ttl).thenAccept(r::set);
        rig.runAll();
        return r;
    }

    /** Starts the rig on the recording store with client "a" connected. */
    private EmbeddedChannel startWithClientA() {
        rig.store = store;
        rig.start();
        EmbeddedChannel ch = rig.connect();
        send(ch, "HELLO a\n");
        out(ch);
        return ch;
    }

    @Test
    void shouldAnswerAStoredPushOnlyOnceTheStoreKeptItAndNeverStoreTtlZero() {
        EmbeddedChannel ch = startWithClientA();
        AtomicReference<PushResult> transientPush = push("a", "now", 0);
        assertEquals(200, transientPush.get().status(), "ttl 0 does not wait for the store");
        AtomicReference<PushResult> stored = push("a", "kept", 60);
        assertNull(stored.get(), "not answered before the store kept it");
        assertEquals(List.of("append a 2 kept"), store.calls);
        store.pending.get(0).done(null);
        assertEquals(200, stored.get().status());
        assertEquals(2, stored.get().seq());
    }

    @Test
    void shouldAnswer503AndCountTheRefusalWhenTheStoreFails() {
        rig.store = store;
        rig.start();
        rig.connect(); // a loop for the offline session
        AtomicReference<PushResult> stored = push("b", "kept", 60);
        store.pending.get(0).done(new IOException("disk full"));
        assertEquals(503, stored.get().status());
        assertTrue(stored.get().error().contains("disk full"), stored.get().error());
        assertEquals(1, rig.metrics.refusals(Refusal.STORE_FAILED));
        assertEquals(0, rig.metrics.refusals(Refusal.DRAINING));
    }

    @Test
    void aStoredPushAnswered503IsTakenBackSoThatARetryDoesNotQueueASecondCopy() {
        rig.store = store;
        rig.start();
        rig.connect(); // a loop for the offline session
        for (int i = 0; i < 3; i++) { // the backend retries its 503s
            AtomicReference<PushResult> stored = push("b", "kept", 60);
            store.pending.get(i).done(new IOException("disk full"));
            rig.runAll();
            assertEquals(503, stored.get().status());
        }
        AtomicReference<PushResult> kept = push("b", "kept", 60);
        store.pending.get(3).done(null);
        assertEquals(200, kept.get().status());
        EmbeddedChannel b = rig.connect();
        send(b, "HELLO b\n");
        rig.runAll();
        String got = out(b);
        assertEquals(1, got.split("MSG ", -1).length - 1, "one copy, not four: " + got);
        assertEquals(1, rig.metrics.pushesAccepted.sum(), "the three answered 503 were not accepted");
    }

    @Test
    void aTopicMessageSkippedAtItsExpiryIsNeitherStoredNorAcknowledgedToTheStore() {
        rig.config.windowMessages = 2;
        EmbeddedChannel ch = startWithClientA();
        send(ch, "SUB t\n");
        out(ch);
        var pushes = rig.registry.pushes();
        // One at a time: an EmbeddedChannel runs its pending tasks inside a write, which a real loop never does.
        pushes.publish("t", "t1".getBytes(StandardCharsets.US_ASCII), null);
        rig.runAll();
        pushes.publish("t", "t2".getBytes(StandardCharsets.US_ASCII), null);
        rig.runAll();
        var soon = new io.switchboard.session.MessageProperties(java.util.List.of(), null, null, null,
                io.switchboard.session.MessageProperties.NO_FORMAT, rig.clock.nowMs() + 1000);
        pushes.publish("t", "t3".getBytes(StandardCharsets.US_ASCII), soon); // behind a full window
        rig.runAll();
        assertEquals("MSG 1 2\nt1\nMSG 2 2\nt2\n", out(ch));
        rig.clock.advanceSec(2);
        send(ch, "ACK 1\n"); // t3, past its expiry, is skipped behind t2
        send(ch, "ACK 3\n");
        rig.runAll();
        assertEquals("", out(ch), "t3 is not sent");
        assertEquals(List.of(), store.calls.stream()
                .filter(c -> c.startsWith("ack ")).toList(), "nothing stored: no acknowledgement for the store");
    }

    @Test
    void shouldAnswer503WhenTheStoreNeverReportsAndIgnoreItsLateReport() {
        EmbeddedChannel ch = startWithClientA();
        ch.freezeTime();
        AtomicReference<PushResult> stored = push("a", "kept", 60);
        assertNull(stored.get());
        ch.advanceTimeBy(10, java.util.concurrent.TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(503, stored.get().status(), "a silent store cannot hold the answer");
        assertTrue(stored.get().error().contains("did not answer"), stored.get().error());
        store.pending.get(0).done(null); // too late: the answer was given
        store.pending.get(0).done(null);
        assertEquals(503, stored.get().status());
        assertEquals(1, rig.metrics.refusals(Refusal.STORE_FAILED));
    }

    @Test
    void shouldTellTheStoreOfAcknowledgementsAndOfSessionsThatEnd() {
        EmbeddedChannel ch = startWithClientA();
        push("a", "m1", 60);
        store.pending.forEach(p -> p.done(null));
        assertEquals("MSG 1 2\nm1\n", out(ch));
        send(ch, "ACK 1\n");
        ch.close();
        rig.runAll();
        assertEquals(List.of("append a 1 m1", "ack a 1", "forget a"), store.calls);
    }

    @Test
    void shouldRecoverStoredMessagesAndContinueTheirSeq() {
        store.recovered = List.of(new MessageStore.Stored(6, rig.clock.nowMs() + 60_000, bytes("six")),
                new MessageStore.Stored(7, rig.clock.nowMs() + 60_000, bytes("seven")));
        store.recoveredLastSeq = 9; // seq 8 and 9 were acked or expired before the restart
        rig.store = store;
        rig.start();
        rig.connect(); // a loop for the recovered session
        var recovered = rig.registry.recover();
        rig.runAll();
        assertEquals(1, recovered.join());
        assertEquals(1, rig.registry.offlineSessions());
        EmbeddedChannel ch = rig.connect();
        send(ch, "HELLO a resume=5\n");
        rig.runAll();
        assertEquals("WELCOME a v=1 hb=60 seq=9\nMSG 6 3\nsix\nMSG 7 5\nseven\n", out(ch));
        AtomicReference<PushResult> next = push("a", "x", 0);
        assertEquals(10, next.get().seq(), "a recovered client's seq never goes backwards");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
