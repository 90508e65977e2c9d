package io.switchboard.bench;

import io.netty.channel.EventLoop;
import io.switchboard.bench.protocol.BenchConnection;
import io.switchboard.bench.protocol.BenchEnv;
import io.switchboard.bench.protocol.ConnectionList;
import java.util.concurrent.TimeUnit;

/**
 * The clients of one bench event loop, swept once a second for heartbeats (no timer per connection), and the
 * {@link BenchEnv} through which they report to the run's {@link BenchStats}. Only its loop touches it.
 */
final class BenchLoop {
    private final EventLoop loop;
    private final ConnectionList members = new ConnectionList();
    private Env env;

    BenchLoop(EventLoop loop) {
        this.loop = loop;
        loop.scheduleAtFixedRate(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    EventLoop loop() {
        return loop;
    }

    /** Where this loop's clients report, into {@code stats} (one per loop, made on first use; on the loop). */
    BenchEnv env(BenchStats stats) {
        if (env == null || env.stats != stats) {
            env = new Env(stats);
        }
        return env;
    }

    private void sweep() {
        members.heartbeat(System.nanoTime());
    }

    /** Closes every connection of this loop (run on the loop). */
    void closeAll() {
        members.closeAll();
    }

    private final class Env implements BenchEnv {
        final BenchStats stats;

        Env(BenchStats stats) {
            this.stats = stats;
        }

        @Override
        public void opened(BenchConnection c) {
            stats.open.increment();
            members.add(c);
        }

        @Override
        public void closed(BenchConnection c) {
            stats.open.decrement();
            members.remove(c);
        }

        @Override
        public void established(long handshakeNs) {
            stats.established.increment();
            stats.lastWelcomeNs.accumulateAndGet(System.nanoTime(), Math::max);
            BenchStats.recordSafely(stats.handshakeUs, handshakeNs / 1000);
        }

        @Override
        public void messageReceived() {
            stats.messages.increment();
        }

        @Override
        public void pushLatency(long latencyUs) {
            BenchStats.recordSafely(stats.pushUs, latencyUs);
        }

        @Override
        public void broadcastLatency(long latencyUs) {
            BenchStats.recordSafely(stats.broadcastUs, latencyUs);
            stats.broadcastReceived.increment();
        }

        @Override
        public void pingSent() {
            stats.pings.increment();
        }

        @Override
        public void error(String reason) {
            stats.error(reason);
        }
    }
}
