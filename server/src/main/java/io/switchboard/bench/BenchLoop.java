package io.switchboard.bench;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The clients of one bench event loop, swept once a second for heartbeats (no timer per connection).
 * Only its loop touches it.
 */
final class BenchLoop {
    private final EventLoop loop;
    private final ArrayList<SwbBenchConnection> members = new ArrayList<>();

    BenchLoop(EventLoop loop) {
        this.loop = loop;
        loop.scheduleAtFixedRate(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    EventLoop loop() {
        return loop;
    }

    void add(SwbBenchConnection c) {
        c.loopIndex = members.size();
        members.add(c);
    }

    void remove(SwbBenchConnection c) {
        int i = c.loopIndex;
        if (i < 0) {
            return;
        }
        SwbBenchConnection last = members.remove(members.size() - 1);
        if (last != c) {
            members.set(i, last);
            last.loopIndex = i;
        }
        c.loopIndex = -1;
    }

    private void sweep() {
        long now = System.nanoTime();
        for (int i = 0; i < members.size(); i++) {
            members.get(i).heartbeat(now);
        }
    }

    /** Closes every connection of this loop (run on the loop). */
    void closeAll() {
        for (SwbBenchConnection c : List.copyOf(members)) {
            c.close();
        }
    }
}
