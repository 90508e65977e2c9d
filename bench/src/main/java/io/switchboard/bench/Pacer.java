package io.switchboard.bench;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Intended times for a paced sequence of events (connects, pushes): event {@code i} is due at a fixed time from the
 * start, whatever happened to earlier ones, so a late event never shifts the schedule (and latency measured from
 * the intended time has no coordinated omission). The rate may grow linearly from 0 to its full value over a
 * ramp-up, the way real fleets come online. One thread uses it.
 */
final class Pacer {
    private final double ratePerSec;
    private final double rampSec;
    private final LongSupplier nanoClock;
    private final long startNs;

    /**
     * @param ratePerSec the full rate, events per second (> 0)
     * @param rampUpNs   time over which the rate grows linearly from 0 to {@code ratePerSec}; 0 for none
     */
    Pacer(double ratePerSec, long rampUpNs, LongSupplier nanoClock) {
        if (!(ratePerSec > 0)) {
            throw new IllegalArgumentException("rate must be positive: " + ratePerSec);
        }
        this.ratePerSec = ratePerSec;
        this.rampSec = Math.max(0, rampUpNs) / 1e9;
        this.nanoClock = nanoClock;
        this.startNs = nanoClock.getAsLong();
    }

    Pacer(double ratePerSec, long rampUpNs) {
        this(ratePerSec, rampUpNs, System::nanoTime);
    }

    long startNs() {
        return startNs;
    }

    /**
     * Nanoseconds after the start at which event {@code i} (from 0) is due. With a ramp of T seconds the events
     * seen by time t ≤ T are R·t²/(2T), so event i is due at √(2Ti/R) during the ramp, then at the full rate.
     */
    long offsetNs(long i) {
        double eventsDuringRamp = ratePerSec * rampSec / 2;
        double sec;
        if (rampSec > 0 && i < eventsDuringRamp) {
            sec = Math.sqrt(2 * rampSec * i / ratePerSec);
        } else {
            sec = rampSec + (i - (rampSec > 0 ? eventsDuringRamp : 0)) / ratePerSec;
        }
        return (long) (sec * 1e9);
    }

    /** Parks until event {@code i} is due (returns at once when behind schedule); returns the clock then. */
    long awaitTurn(long i) {
        long due = startNs + offsetNs(i);
        long now;
        while ((now = nanoClock.getAsLong()) < due) {
            LockSupport.parkNanos(Math.min(due - now, 500_000));
        }
        return now;
    }
}
