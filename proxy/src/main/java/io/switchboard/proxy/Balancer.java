package io.switchboard.proxy;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Chooses the upstream for a connection attempt: round robin or least connections over the upstreams that are up
 * and not yet tried by this connection. When every untried upstream is down it still returns one (the client gets
 * a chance rather than an immediate close). Immutable list of upstreams, thread-safe; the round-robin cursor
 * belongs to the caller's event loop so loops never contend. A reload builds a new balancer that keeps the
 * {@link Upstream} objects of addresses it still lists, with their state and counters.
 */
final class Balancer {
    private final Upstream[] upstreams;
    private final RouteConfig.Balance balance;

    /** Upstreams for {@code addresses}, taken from {@code previous} where the address is the same. */
    Balancer(List<InetSocketAddress> addresses, RouteConfig.Balance balance, List<Upstream> previous) {
        this.upstreams = new Upstream[addresses.size()];
        for (int i = 0; i < upstreams.length; i++) {
            InetSocketAddress a = addresses.get(i);
            Upstream same = null;
            for (Upstream p : previous) {
                if (p.address.equals(a)) {
                    same = p;
                    break;
                }
            }
            upstreams[i] = same != null ? same : new Upstream(a);
        }
        this.balance = balance;
    }

    List<Upstream> upstreams() {
        return List.of(upstreams);
    }

    int size() {
        return upstreams.length;
    }

    Upstream get(int position) {
        return upstreams[position];
    }

    /**
     * @param triedMask bit {@code i} set when the upstream at position {@code i} already failed for this connection
     * @param cursor the caller's round-robin position (any int; taken modulo the count)
     * @return the position of the upstream to try, or -1 when every upstream was tried
     */
    int pick(long triedMask, int cursor, long nowMs) {
        int n = upstreams.length;
        int start = Math.floorMod(cursor, n);
        int best = -1;
        int fallback = -1;
        for (int k = 0; k < n; k++) {
            int i = (start + k) % n;
            Upstream u = upstreams[i];
            if ((triedMask & (1L << i)) != 0) {
                continue;
            }
            if (!u.isUp(nowMs)) {
                if (fallback < 0) {
                    fallback = i;
                }
                continue;
            }
            if (balance == RouteConfig.Balance.RR) {
                return i;
            }
            if (best < 0 || u.active.get() < upstreams[best].active.get()) {
                best = i;
            }
        }
        return best >= 0 ? best : fallback;
    }
}
