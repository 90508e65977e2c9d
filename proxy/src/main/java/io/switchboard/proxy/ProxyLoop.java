package io.switchboard.proxy;

import io.netty.channel.EventLoop;
import java.util.Arrays;

/**
 * What one event loop owns in the proxy: its forwarded connections (an array, for the once-a-second idle sweep and
 * for drain), a coarse clock in seconds and its round-robin cursors. Only the loop's own thread touches it.
 */
final class ProxyLoop {
    /** At most this many connections are closed per sweep, so a mass timeout cannot stall the loop. */
    static final int CLOSES_PER_SWEEP = 20_000;

    final int index;
    final EventLoop loop;
    final ProxyServer server;
    private final long baseMs;
    /** Seconds since the loop started, refreshed once a second: cheap to read on every chunk. */
    int nowSec;
    int rrCursor;
    int sourceCursor;
    private Link[] links = new Link[64];
    private int count;

    ProxyLoop(int index, EventLoop loop, ProxyServer server, long nowMs) {
        this.index = index;
        this.loop = loop;
        this.server = server;
        this.baseMs = nowMs;
        this.rrCursor = index; // loops start at different upstreams so that a burst is spread at once
    }

    void add(Link link) {
        if (count == links.length) {
            links = Arrays.copyOf(links, links.length * 2);
        }
        links[count] = link;
        link.index = count++;
    }

    void remove(Link link) {
        int i = link.index;
        if (i < 0) {
            return;
        }
        Link last = links[--count];
        links[i] = last;
        last.index = i;
        links[count] = null;
        link.index = -1;
        if (links.length > 1024 && count < links.length / 4) {
            links = Arrays.copyOf(links, links.length / 2);
        }
    }

    int size() {
        return count;
    }

    /** Refreshes the clock and closes connections past their idle or PROXY-header deadline. */
    void tick(long nowMs) {
        nowSec = (int) ((nowMs - baseMs) / 1000);
        int budget = CLOSES_PER_SWEEP;
        // Downwards: a close only takes effect later, but if it ever removes at once, the swapped-in last entry has
        // been seen already.
        for (int i = count - 1; i >= 0 && budget > 0; i--) {
            if (links[i].sweep(nowSec)) {
                budget--;
            }
        }
    }

    long queuedBytes() {
        long n = 0;
        for (int i = 0; i < count; i++) {
            n += links[i].queuedBytes();
        }
        return n;
    }

    /** Closes every connection on this loop (the end of a drain). */
    int closeAll() {
        int n = count;
        for (Link l : Arrays.copyOf(links, count)) {
            l.closeBoth();
        }
        return n;
    }
}
