package io.switchboard.limits;

import io.switchboard.clock.Clock;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control for new connections: the global maximum, the per-source-address maximum and the accept rate.
 * Thread-safe; called by every event loop on accept and close. The per-address table exists only when that limit
 * is set, so the default costs nothing per connection.
 */
public final class ConnectionGuard {
    /** Why a connection was not admitted. */
    public enum Refused {
        ACCEPT_RATE, MAX_CONNECTIONS, PER_IP_LIMIT
    }

    private volatile int maxConnections;
    private volatile int maxPerIp;
    private final int acceptRatePerSec;
    private final Clock clock;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perIp;
    private long rateWindowSec = Long.MIN_VALUE;
    private int acceptedInWindow;

    public ConnectionGuard(int maxConnections, int maxPerIp, int acceptRatePerSec, Clock clock) {
        this.maxConnections = maxConnections;
        this.maxPerIp = maxPerIp;
        this.acceptRatePerSec = acceptRatePerSec;
        this.clock = clock;
        this.perIp = maxPerIp > 0 ? new ConcurrentHashMap<>() : null;
    }

    /**
     * Admits a connection from {@code ip}, or returns why not; on success the caller must {@link #release}. The
     * per-address limit counts IPv6 clients per /64 ({@link SourceKey}).
     */
    public Refused tryAcquire(InetAddress ip) {
        if (acceptRatePerSec > 0 && !takeAcceptToken()) {
            return Refused.ACCEPT_RATE;
        }
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return Refused.MAX_CONNECTIONS;
        }
        if (perIp != null && ip != null) {
            InetAddress source = SourceKey.of(ip);
            // Counted and uncounted inside the map's own atomic steps: a count taken out of the map while another
            // loop released the address's last connection would be lost, and the limit undercounted for good.
            int n = perIp.merge(source, 1, Integer::sum);
            int limit = maxPerIp;
            if (n > limit && limit > 0) {
                releaseIp(source);
                open.decrementAndGet();
                return Refused.PER_IP_LIMIT;
            }
        }
        return null;
    }

    public void release(InetAddress ip) {
        open.decrementAndGet();
        if (perIp != null && ip != null) {
            releaseIp(SourceKey.of(ip));
        }
    }

    /**
     * Changes the limits for connections admitted from now on (a reload). The per-address table exists only when
     * that limit was set at construction, so it cannot be switched on later: its counts would miss the connections
     * already open.
     *
     * @throws IllegalArgumentException when {@code maxPerIp} switches the per-address limit on
     */
    public void setLimits(int maxConnections, int maxPerIp) {
        if (perIp == null && maxPerIp > 0) {
            throw new IllegalArgumentException("--max-connections-per-ip was off at start and can only be switched "
                    + "on by a restart");
        }
        this.maxConnections = maxConnections;
        this.maxPerIp = maxPerIp;
    }

    /** Whether {@link #setLimits} accepts {@code maxPerIp}. */
    public boolean canLimitPerIp(int maxPerIp) {
        return perIp != null || maxPerIp <= 0;
    }

    public int open() {
        return open.get();
    }

    public int maxConnections() {
        return maxConnections;
    }

    /** Source addresses (IPv6: /64 networks) tracked by the per-address limit now (0 when the limit is off). */
    public int trackedAddresses() {
        return perIp == null ? 0 : perIp.size();
    }

    private void releaseIp(InetAddress ip) {
        perIp.computeIfPresent(ip, (k, n) -> n <= 1 ? null : n - 1);
    }

    private synchronized boolean takeAcceptToken() {
        long sec = clock.nowMs() / 1000;
        if (sec != rateWindowSec) {
            rateWindowSec = sec;
            acceptedInWindow = 0;
        }
        return ++acceptedInWindow <= acceptRatePerSec;
    }
}
