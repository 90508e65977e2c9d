package io.switchboard.limits;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * New connections per second per source address: a one-second window per address that connected recently.
 * Thread-safe; every event loop calls {@link #tryAcquire} on accept, one loop calls {@link #sweep} once a second so
 * the table holds only the addresses of the last two seconds. The limit can be changed at any time (reload).
 */
public final class AddressRate {
    private static final class Window {
        long sec;
        int count;
    }

    private final ConcurrentHashMap<InetAddress, Window> windows = new ConcurrentHashMap<>();
    private volatile int perSecond;

    public AddressRate(int perSecond) {
        this.perSecond = perSecond;
    }

    public void setPerSecond(int perSecond) {
        this.perSecond = perSecond;
        if (perSecond <= 0) {
            windows.clear();
        }
    }

    public int perSecond() {
        return perSecond;
    }

    /**
     * Counts a new connection from {@code ip} (IPv6: its /64, see {@link SourceKey}) in second {@code nowSec}; false
     * when it is over the limit.
     */
    public boolean tryAcquire(InetAddress ip, long nowSec) {
        int limit = perSecond;
        if (limit <= 0 || ip == null) {
            return true;
        }
        Window w = windows.computeIfAbsent(SourceKey.of(ip), k -> new Window());
        synchronized (w) {
            if (w.sec != nowSec) {
                w.sec = nowSec;
                w.count = 0;
            }
            return ++w.count <= limit;
        }
    }

    /** Forgets addresses whose window is older than the previous second. */
    public void sweep(long nowSec) {
        if (!windows.isEmpty()) {
            windows.values().removeIf(w -> {
                synchronized (w) {
                    return w.sec < nowSec - 1;
                }
            });
        }
    }

    /** Addresses currently in the table. */
    public int trackedAddresses() {
        return windows.size();
    }
}
