package io.switchboard.bench;

import java.time.Instant;

/** Wall-clock microseconds, comparable between the bench and its pushers on the same machine. */
public final class EpochClock {
    private EpochClock() {}

    public static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }
}
