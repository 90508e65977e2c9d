package io.switchboard.proxy;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream address and what this process knows of it: open connections, failures and whether it is up.
 * Thread-safe: every event loop reads and updates it; the state is a few atomics, no lock.
 *
 * <p>Down comes from two sources: passive marking ({@code maxFails} consecutive connect failures make it down for
 * {@code failTimeoutMs}, then it is tried again) and, when enabled, the active check (down until a check connects).
 */
public final class Upstream {
    final InetSocketAddress address;
    final String label;
    final AtomicInteger active = new AtomicInteger();
    final LongAdder connections = new LongAdder();
    final LongAdder failures = new LongAdder();
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Epoch ms until which passive marking keeps this upstream down; compared by subtraction. */
    private volatile long downUntilMs;
    private volatile boolean checkFailed;

    Upstream(InetSocketAddress address) {
        this.address = address;
        this.label = Addresses.label(address);
    }

    public boolean isUp(long nowMs) {
        return !checkFailed && nowMs - downUntilMs >= 0;
    }

    public String label() {
        return label;
    }

    public int activeConnections() {
        return active.get();
    }

    /** A connect succeeded: the failure streak ends. */
    void connected() {
        connections.increment();
        if (consecutiveFailures.get() != 0) {
            consecutiveFailures.set(0);
        }
    }

    /** A connect failed; returns true when this failure marked the upstream down. */
    boolean failed(long nowMs, int maxFails, long failTimeoutMs) {
        failures.increment();
        if (consecutiveFailures.incrementAndGet() >= maxFails) {
            boolean wasUp = isUp(nowMs);
            downUntilMs = nowMs + failTimeoutMs;
            return wasUp;
        }
        return false;
    }

    /** Forgets the last active check's failure (checks were switched off); passive marks stay. */
    void clearCheck() {
        checkFailed = false;
    }

    /** Result of an active check; returns true when it changed the state. */
    boolean checked(boolean ok) {
        boolean changed = checkFailed == ok;
        checkFailed = !ok;
        if (ok) {
            consecutiveFailures.set(0);
            downUntilMs = 0;
        }
        return changed;
    }
}
