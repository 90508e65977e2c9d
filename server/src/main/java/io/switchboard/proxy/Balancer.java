package io.switchboard.proxy;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses the upstream for a connection attempt: round robin or least connections over the upstreams that are up
 * and not yet tried by this connection. When every untried upstream is down it still returns one (the client gets
 * a chance rather than an immediate close). Immutable list of upstreams, thread-safe; the round-robin cursor
 * belongs to the caller's event loop so loops never contend.
 */
final class Balancer {
    private final Upstream[] upstreams;
    private final ProxyConfig.Balance balance;

    Balancer(List<InetSocketAddress> addresses, ProxyConfig.Balance balance) {
        List<Upstream> list = new ArrayList<>();
        for (InetSocketAddress a : addresses) {
            list.add(new Upstream(list.size(), a));
        }
        this.upstreams = list.toArray(new Upstream[0]);
        this.balance = balance;
    }

    List<Upstream> upstreams() {
        return List.of(upstreams);
    }

    int size() {
        return upstreams.length;
    }

    /**
     * @param triedMask bit {@code i} set when upstream {@code i} already failed for this connection
     * @param cursor the caller's round-robin position (any int; taken modulo the count)
     * @return the upstream to try, or null when every upstream was tried
     */
    Upstream pick(long triedMask, int cursor, long nowMs) {
        int n = upstreams.length;
        int start = Math.floorMod(cursor, n);
        Upstream best = null;
        Upstream fallback = null;
        for (int k = 0; k < n; k++) {
            Upstream u = upstreams[(start + k) % n];
            if ((triedMask & (1L << u.index)) != 0) {
                continue;
            }
            if (!u.isUp(nowMs)) {
                if (fallback == null) {
                    fallback = u;
                }
                continue;
            }
            if (balance == ProxyConfig.Balance.RR) {
                return u;
            }
            if (best == null || u.active.get() < best.active.get()) {
                best = u;
            }
        }
        return best != null ? best : fallback;
    }
}
