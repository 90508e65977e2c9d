package io.switchboard.bench.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * The open bench connections of one event loop, swept once a second for heartbeats (no timer per connection).
 * Only its loop touches it.
 */
public final class ConnectionList {
    private final ArrayList<BenchConnection> members = new ArrayList<>();

    public void add(BenchConnection c) {
        c.slot = members.size();
        members.add(c);
    }

    public void remove(BenchConnection c) {
        int i = c.slot;
        if (i < 0) {
            return;
        }
        BenchConnection last = members.remove(members.size() - 1);
        if (last != c) {
            members.set(i, last);
            last.slot = i;
        }
        c.slot = -1;
    }

    public int size() {
        return members.size();
    }

    /** Lets every member send its heartbeat if it is due at {@code nowNs} ({@link System#nanoTime()}). */
    public void heartbeat(long nowNs) {
        // Downwards, so that a member leaving during the sweep moves only one already swept.
        for (int i = members.size() - 1; i >= 0; i--) {
            if (i < members.size()) {
                members.get(i).heartbeat(nowNs);
            }
        }
    }

    /** Closes every member. */
    public void closeAll() {
        for (BenchConnection c : List.copyOf(members)) {
            c.close();
        }
    }
}
