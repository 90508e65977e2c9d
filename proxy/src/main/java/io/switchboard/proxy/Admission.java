package io.switchboard.proxy;

import io.switchboard.limits.ConnectionGuard;
import java.net.InetAddress;

/**
 * Whether a client may be forwarded on a route: the route's allow and deny lists, then the connection rate per
 * address, then the connection limits. Stateless; called on the connection's event loop (the rate and the guard it
 * consults are thread-safe).
 */
final class Admission {
    private Admission() {}

    /**
     * Null when {@code ip} is admitted, and a {@link ConnectionGuard} slot is then held for it (the caller releases
     * it when the connection ends); otherwise why it is refused, and nothing is held.
     */
    static ProxyMetrics.Refused refusal(ProxyServer s, RouteConfig rc, InetAddress ip) {
        if (rc.deny.contains(ip) || (!rc.allow.isEmpty() && !rc.allow.contains(ip))) {
            return ProxyMetrics.Refused.DENIED;
        }
        if (!s.rate.tryAcquire(ip, s.config.clock.nowMs() / 1000)) {
            return ProxyMetrics.Refused.RATE_PER_IP;
        }
        ConnectionGuard.Refused r = s.guard.tryAcquire(ip);
        if (r != null) {
            return r == ConnectionGuard.Refused.PER_IP_LIMIT ? ProxyMetrics.Refused.PER_IP_LIMIT
                    : ProxyMetrics.Refused.MAX_CONNECTIONS;
        }
        return null;
    }
}
