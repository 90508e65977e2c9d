package io.switchboard.server;

import io.switchboard.session.SessionShard;
import io.switchboard.service.AdminService;
import io.switchboard.service.CoreStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The gateway's {@link AdminService}: drain and state from {@link GatewayServer}, stats read from its registry,
 * connection guard and loops. Thread-safe; loop-owned counts are read from the caller's thread as estimates.
 */
final class GatewayAdmin implements AdminService {
    private final GatewayServer gateway;

    GatewayAdmin(GatewayServer gateway) {
        this.gateway = gateway;
    }

    @Override
    public CompletableFuture<Void> drain() {
        return gateway.drain();
    }

    @Override
    public boolean draining() {
        return gateway.draining();
    }

    @Override
    public int drainPeriodSec() {
        return gateway.config().drainPeriodSec;
    }

    @Override
    public String failing() {
        return gateway.store().broken();
    }

    @Override
    public CoreStats stats() {
        List<Integer> perLoop = new ArrayList<>(gateway.loops().size());
        for (SessionShard l : gateway.loops()) {
            perLoop.add(l.memberCount()); // read from another thread: an estimate, good enough for stats
        }
        return new CoreStats(gateway.services().clock().nowMs() - gateway.startedAtMs(),
                gateway.guard().maxConnections(), gateway.registry().size(), gateway.registry().offlineSessions(),
                perLoop, gateway.registry().queuedBytes().usedBytes(), gateway.registry().queuedBytes().maxBytes(),
                gateway.store().stats(), gateway.cluster() == null ? null : gateway.cluster().stats(),
                gateway.services().upstream().stats());
    }
}
