package io.switchboard.proxy;

import io.netty.channel.EventLoop;
import io.switchboard.clock.Clock;
import io.switchboard.loop.Loop;
import java.util.List;

/**
 * What one event loop owns in the proxy: its forwarded connections (members of the loop's generic {@link Loop}, for
 * the once-a-second idle sweep and for drain), the loop's coarse clock in seconds and its round-robin cursors. Only
 * the loop's own thread touches it.
 */
final class ProxyLoop {
    /** At most this many connections are closed per sweep, so a mass timeout cannot stall the loop. */
    static final int CLOSES_PER_SWEEP = 20_000;

    final int index;
    final EventLoop loop;
    final ProxyServer server;
    private final Loop<Link> links;
    /** Seconds since the loop started, refreshed once a second: cheap to read on every chunk. */
    int nowSec;
    int rrCursor;
    int sourceCursor;

    ProxyLoop(int index, EventLoop loop, ProxyServer server, Clock clock) {
        this.index = index;
        this.loop = loop;
        this.server = server;
        this.links = new Loop<>(index, loop, clock);
        this.rrCursor = index; // loops start at different upstreams so that a burst is spread at once
    }

    void add(Link link) {
        links.addMember(link);
    }

    void remove(Link link) {
        links.removeMember(link);
    }

    int size() {
        return links.memberCount();
    }

    /** Refreshes the clock and closes connections past their idle or PROXY-header deadline. */
    void tick() {
        links.tick();
        nowSec = (int) links.nowSec();
        int budget = CLOSES_PER_SWEEP;
        // Downwards: a close only takes effect later, but if it ever removes at once, the swapped-in last entry has
        // been seen already.
        for (int i = links.memberCount() - 1; i >= 0 && budget > 0; i--) {
            if (links.member(i).sweep(nowSec)) {
                budget--;
            }
        }
    }

    long queuedBytes() {
        long n = 0;
        for (int i = 0; i < links.memberCount(); i++) {
            n += links.member(i).queuedBytes();
        }
        return n;
    }

    /** Closes every connection on this loop (the end of a drain). */
    int closeAll() {
        List<Link> all = links.membersSnapshot();
        for (Link l : all) {
            l.closeBoth();
        }
        return all.size();
    }
}
