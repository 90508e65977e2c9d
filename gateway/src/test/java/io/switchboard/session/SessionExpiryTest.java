package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.PushResult;
import io.switchboard.clock.ManualClock;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Delivery when retained messages expire while a slow client's socket is full. */
class SessionExpiryTest {
    private final ManualClock clock = new ManualClock();
    private final EmbeddedChannel loopChannel = new EmbeddedChannel();
    private final GatewayMetrics metrics = new GatewayMetrics();
    private final SessionRegistry registry = new SessionRegistry(
            new SessionRegistry.Limits(2, 100, 1 << 20, 1 << 16, 3600, false, 1000), metrics);
    private final FakeLink link = new FakeLink();

    @AfterEach
    void tearDown() {
        loopChannel.finishAndReleaseAll();
    }

    private PushResult push(String payload, int ttl) {
        AtomicReference<PushResult> r = new AtomicReference<>();
        registry.pushes().push("c", payload.getBytes(StandardCharsets.US_ASCII), ttl).thenAccept(r::set);
        loopChannel.runPendingTasks();
        return r.get();
    }

    @Test
    void shouldKeepDeliveringWhenAWindowFullOfExpiredMessagesIsSkipped() {
        SessionShard loop = registry.addShard(loopChannel.eventLoop(), clock);
        FakeConnections.connect(registry, "c", link, loop, clock);
        loopChannel.runPendingTasks();
        push("m1", 60);                 // written, not yet acknowledged
        link.writable = false;          // the client stops reading; the socket fills
        push("e1", 1);
        push("e2", 1);
        push("fresh", 60);
        clock.advanceSec(2);            // e1 and e2 expire while waiting
        link.writable = true;
        Session s = registry.find("c");
        s.pump(true);                   // e1 is skipped behind m1: the window (2) is full of m1 and a dead message
        assertEquals(List.of("m1"), link.written);
        s.ack(1);                       // the client acknowledges m1, all it ever saw
        s.pump(true);
        assertEquals(List.of("m1", "fresh"), link.written, "delivery must go on after the expired ones");
        assertEquals(2, metrics.messagesExpired.sum(), "e1 and e2, each once");
        s.ack(s.lastSeq());
        assertEquals(2, metrics.messagesAcked.sum(), "m1 and fresh: not the expired ones");
        assertEquals(2, metrics.messagesExpired.sum());
    }
}
