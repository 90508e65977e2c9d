package io.switchboard.session;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.clock.ManualClock;
import io.switchboard.metrics.GatewayMetrics;
import java.nio.charset.StandardCharsets;

/** A registry with two session loops, each an EmbeddedChannel's, whose tasks the test thread runs explicitly. */
final class TwoLoops implements AutoCloseable {
    final ManualClock clock = new ManualClock();
    final GatewayMetrics metrics = new GatewayMetrics();
    final SessionRegistry registry = new SessionRegistry(
            new SessionRegistry.Limits(8, 100, 1 << 20, 1 << 16, 3600, false, 1000), metrics);
    final EmbeddedChannel loop0 = new EmbeddedChannel();
    final EmbeddedChannel loop1 = new EmbeddedChannel();
    final SessionShard shard0 = registry.addShard(loop0.eventLoop(), clock);
    final SessionShard shard1 = registry.addShard(loop1.eventLoop(), clock);

    /** Runs both loops' tasks, and those they hand each other, a few rounds. */
    void run() {
        for (int i = 0; i < 3; i++) {
            loop0.runPendingTasks();
            loop1.runPendingTasks();
        }
    }

    @Override
    public void close() {
        loop0.finishAndReleaseAll();
        loop1.finishAndReleaseAll();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
