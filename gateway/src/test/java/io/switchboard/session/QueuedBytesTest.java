package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.clock.ManualClock;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import io.switchboard.service.PushResult;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The budget of payload bytes queued for all clients ({@code --max-queued-total}): a push beyond it is refused, and
 * the count follows every way a message leaves a queue back to 0. Two loops, each an EmbeddedChannel's, run
 * explicitly.
 */
class QueuedBytesTest {
    private final ManualClock clock = new ManualClock();
    private final GatewayMetrics metrics = new GatewayMetrics();
    private final EmbeddedChannel channel0 = new EmbeddedChannel();
    private final EmbeddedChannel channel1 = new EmbeddedChannel();

    @AfterEach
    void tearDown() {
        channel0.finishAndReleaseAll();
        channel1.finishAndReleaseAll();
    }

    private SessionRegistry registry(long maxQueuedTotalBytes) {
        return new SessionRegistry(new SessionRegistry.Limits(8, 100, 1 << 20, 1 << 16, 3600, false, 1000,
                maxQueuedTotalBytes), metrics);
    }

    private PushResult push(SessionRegistry registry, String clientId, String payload, int ttlSec) {
        AtomicReference<PushResult> r = new AtomicReference<>();
        registry.pushes().push(clientId, payload.getBytes(StandardCharsets.US_ASCII), ttlSec).thenAccept(r::set);
        runLoops();
        return r.get();
    }

    private void runLoops() {
        for (int i = 0; i < 4; i++) { // tasks may hand work to the other loop: a few rounds settle them
            channel0.runPendingTasks();
            channel1.runPendingTasks();
        }
    }

    /**
     * What the budget counts must be what the sessions hold: {@code expected} payload bytes, and the overhead of
     * each message queued.
     */
    private static void assertQueued(SessionRegistry registry, long expected, String when) {
        long held = 0;
        long messages = 0;
        for (String id : new String[] {"a", "b", "c"}) {
            Session s = registry.find(id);
            held += s == null ? 0 : s.queuedBytes();
            messages += s == null ? 0 : s.queued();
        }
        assertEquals(expected, held, "bytes the sessions hold " + when);
        assertEquals(expected + messages * DeliveryQueue.MESSAGE_OVERHEAD_BYTES, registry.queuedBytes().usedBytes(),
                "bytes the budget counts " + when);
    }

    @Test
    void shouldRefusePushBeyondTheBudgetWithoutUsingASeq() {
        SessionRegistry registry = registry(DeliveryQueue.MESSAGE_OVERHEAD_BYTES + 10);
        SessionShard loop = registry.addShard(channel0.eventLoop(), clock);
        FakeLink link = new FakeLink();
        FakeConnections.connect(registry, "a", link, loop, clock);
        runLoops();

        assertTrue(push(registry, "a", "123456", 60).ok());
        PushResult refused = push(registry, "a", "123456", 60);
        assertSame(PushResult.QUEUED_TOTAL_FULL, refused);
        assertEquals(503, refused.status());
        assertTrue(refused.error().contains("--max-queued-total"), refused.error());
        assertEquals(1, metrics.refusals(Refusal.QUEUED_TOTAL));
        PushResult refusedOffline = push(registry, "b", "123456", 60);
        assertSame(PushResult.QUEUED_TOTAL_FULL, refusedOffline);
        assertNull(registry.find("b"), "no offline session is kept for a refused push");

        registry.find("a").ack(1);
        PushResult next = push(registry, "a", "123456", 60);
        assertEquals(2, next.seq(), "a refused push takes no seq");
        assertQueued(registry, 6, "after the ack made room");
    }

    @Test
    void shouldCountBackToZeroOnAckExpiryDisconnectTakeoverResumeAndRemoval() {
        SessionRegistry registry = registry(1 << 20);
        SessionShard loop0 = registry.addShard(channel0.eventLoop(), clock);
        SessionShard loop1 = registry.addShard(channel1.eventLoop(), clock);
        FakeLink first = new FakeLink();
        FakeConnections.connect(registry, "a", first, loop0, clock);
        runLoops();

        push(registry, "a", "stored1", 60);
        push(registry, "a", "stored2", 60);
        push(registry, "a", "transient", 0);
        push(registry, "a", "stored3", 60);
        assertQueued(registry, 7 * 3 + 9, "after four pushes");

        registry.find("a").ack(1);
        assertQueued(registry, 7 * 2 + 9, "after an ack");

        // Takeover onto the other loop: the ttl=0 message was for the old connection only.
        FakeLink second = new FakeLink();
        FakeConnections.connect(registry, "a", second, loop1, clock);
        runLoops();
        assertSame(loop1, registry.find("a").owner());
        assertQueued(registry, 7 * 2, "after a takeover");

        // Disconnect: stored messages stay, a ttl=0 one goes.
        push(registry, "a", "transient", 0);
        Session a = registry.find("a");
        loop1.execute(() -> registry.connectionClosed(a, second));
        runLoops();
        assertQueued(registry, 7 * 2, "after a disconnect");

        // Resume from seq 3 (stored2): only stored3 is left to send.
        FakeLink third = new FakeLink();
        FakeConnections.connect(registry, "a", third, loop1, clock, 3);
        runLoops();
        assertQueued(registry, 7, "after a resume");

        // Expiry of an offline client's messages, and removal of its session by the sweep.
        push(registry, "b", "expires", 1);
        push(registry, "c", "expires", 1);
        assertQueued(registry, 7 * 3, "with two offline clients");
        clock.advanceSec(SessionShard.OFFLINE_SWEEP_EVERY_SEC + 1);
        loop0.execute(loop0::tick);
        loop1.execute(loop1::tick);
        runLoops();
        assertNull(registry.find("b"));
        assertNull(registry.find("c"));
        assertQueued(registry, 7, "after the offline messages expired");

        // The client receives what is left (a handshake pumps after its welcome) and acknowledges it.
        registry.find("a").pump(true);
        registry.find("a").ack(registry.find("a").lastSeq());
        assertQueued(registry, 0, "after the last ack");
        assertEquals(1 << 20, registry.queuedBytes().maxBytes());
    }

    @Test
    void aBroadcastsPayloadIsOneArraySharedByItsRecipientsAndCountedOncePerLoop() {
        int payload = 1000;
        // Room for the payload about twice, and each recipient's message: counted per recipient, the payload
        // took the budget after two clients and the broadcast reached two of the ten.
        SessionRegistry registry = registry(2L * payload + 10L * DeliveryQueue.MESSAGE_OVERHEAD_BYTES);
        SessionShard loop = registry.addShard(channel0.eventLoop(), clock);
        for (int i = 0; i < 10; i++) {
            FakeConnections.connect(registry, "c" + i, new FakeLink(), loop, clock);
        }
        runLoops();
        AtomicReference<io.switchboard.service.Reach> reach = new AtomicReference<>();
        registry.pushes().broadcast(new byte[payload]).thenAccept(reach::set);
        runLoops();
        assertEquals(10, reach.get().delivered(), "every connected client");
        assertTrue(registry.queuedBytes().usedBytes() <= payload + 10L * DeliveryQueue.MESSAGE_OVERHEAD_BYTES,
                "the payload once, and each message's own cost, until each is acknowledged");
        assertEquals(0, metrics.refusals(Refusal.QUEUED_TOTAL));
    }

    @Test
    void aTopicMessageForOneSubscriberCountsItsPayload() {
        int payload = 1000;
        SessionRegistry registry = registry(3L * (payload + DeliveryQueue.MESSAGE_OVERHEAD_BYTES) + 10);
        SessionShard loop = registry.addShard(channel0.eventLoop(), clock);
        FakeLink slow = new FakeLink();
        slow.writable = false; // a subscriber that does not read: its messages stay queued
        FakeConnections.connect(registry, "a", slow, loop, clock);
        runLoops();
        loop.execute(() -> registry.find("a").subscribe("devices/a/cmd", 10, false));
        runLoops();
        long reached = 0;
        for (int i = 0; i < 5; i++) {
            AtomicReference<io.switchboard.service.Reach> r = new AtomicReference<>();
            registry.pushes().publish("devices/a/cmd", new byte[payload]).thenAccept(r::set);
            runLoops();
            reached += r.get().delivered();
        }
        assertEquals(3, reached, "one array per message, each held for its one subscriber: the budget bounds them");
        assertEquals(2, metrics.refusals(Refusal.TOPIC_QUEUE_FULL) + metrics.refusals(Refusal.QUEUED_TOTAL));
    }

    @Test
    void aSharedPayloadStaysCountedWhileASlowRecipientHoldsItAfterAFastOneLetItGo() {
        int payload = 1000;
        SessionRegistry registry = registry(3L * (payload + DeliveryQueue.MESSAGE_OVERHEAD_BYTES) + 10);
        SessionShard loop = registry.addShard(channel0.eventLoop(), clock);
        FakeLink monitor = new FakeLink();
        monitor.acknowledgesTransient = false; // an MQTT subscriber: written, gone at once
        FakeLink device = new FakeLink();
        device.writable = false; // the device itself does not read
        FakeConnections.connect(registry, "a", monitor, loop, clock);
        FakeConnections.connect(registry, "b", device, loop, clock);
        runLoops();
        loop.execute(() -> registry.find("a").subscribe("devices/b/cmd", 10, false)); // found first
        loop.execute(() -> registry.find("b").subscribe("devices/b/cmd", 10, false));
        runLoops();
        for (int i = 0; i < 5; i++) {
            registry.pushes().publish("devices/b/cmd", new byte[payload]);
            runLoops();
        }
        assertEquals(3, registry.find("b").queued(), "the slow device holds what the budget counts, no more");
        assertEquals(3L * (payload + DeliveryQueue.MESSAGE_OVERHEAD_BYTES), registry.queuedBytes().usedBytes());
    }

    @Test
    void emptyStoredMessagesAreBoundedByTheBudgetToo() {
        SessionRegistry registry = registry(100L * DeliveryQueue.MESSAGE_OVERHEAD_BYTES);
        registry.addShard(channel0.eventLoop(), clock);
        int accepted = 0;
        for (int i = 0; i < 150; i++) {
            if (push(registry, "a" + (i % 3 == 0 ? "" : i % 3), "", 60).ok()) {
                accepted++;
            }
        }
        assertEquals(100, accepted, "an empty payload still costs its message");
        assertEquals(50, metrics.refusals(Refusal.QUEUED_TOTAL));
    }
}
