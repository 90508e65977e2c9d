package io.switchboard.clock;

import io.switchboard.clock.Clock;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test says so. */
public final class ManualClock implements Clock {
    private final AtomicLong nowMs;

    public ManualClock(long startMs) {
        this.nowMs = new AtomicLong(startMs);
    }

    public ManualClock() {
        this(1_700_000_000_000L);
    }

    @Override
    public long nowMs() {
        return nowMs.get();
    }

    /** Moves with {@link #nowMs()}: tests advance one clock for both. */
    @Override
    public long monotonicNs() {
        return nowMs.get() * 1_000_000L;
    }

    public void advanceMs(long ms) {
        nowMs.addAndGet(ms);
    }

    public void advanceSec(long seconds) {
        nowMs.addAndGet(seconds * 1000);
    }
}
