package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.clock.ManualClock;
import io.switchboard.metrics.GatewayMetrics;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Offline sessions whose stored messages expired are removed by a sweep that looks at a share of them at each tick,
 * each about every {@link SessionShard#OFFLINE_SWEEP_EVERY_SEC}: a loop with a million offline sessions is not
 * stalled by looking at all of them at once.
 */
class OfflineSweepTest {
    private final ManualClock clock = new ManualClock();
    private final GatewayMetrics metrics = new GatewayMetrics();
    private final EmbeddedChannel channel = new EmbeddedChannel();

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Test
    void aTickLooksAtAShareOfTheOfflineSessionsAndEachComesUpWithinTheSweepPeriod() {
        int n = 10_000;
        SessionRegistry registry = new SessionRegistry(new SessionRegistry.Limits(8, 100, 1 << 20, 1 << 16, 3600,
                false, 1_000_000), metrics);
        SessionShard shard = registry.addShard(channel.eventLoop(), clock);
        for (int i = 0; i < n; i++) {
            registry.pushes().push("offline-" + i, "m".getBytes(StandardCharsets.US_ASCII), 1);
            channel.runPendingTasks();
        }
        assertEquals(n, shard.offlineCount());

        clock.advanceSec(2); // every message expired
        shard.tick();
        int afterOneTick = shard.offlineCount();
        assertEquals(n - n / SessionShard.OFFLINE_SWEEP_EVERY_SEC, afterOneTick, "a fifth of them looked at");
        for (int t = 1; t < SessionShard.OFFLINE_SWEEP_EVERY_SEC; t++) {
            clock.advanceSec(1);
            shard.tick();
        }
        assertEquals(0, shard.offlineCount(), "each looked at within the sweep period");
        assertEquals(0, registry.size());
        assertTrue(metrics.messagesExpired.sum() >= n);
    }
}
