package io.switchboard.client;

import java.util.random.RandomGenerator;

/** A random source that always lands at the same fraction of the requested range (1.0 = its top). */
final class FixedRandom implements RandomGenerator {
    private final double fraction;

    FixedRandom(double fraction) {
        this.fraction = fraction;
    }

    @Override
    public long nextLong() {
        return 0;
    }

    @Override
    public long nextLong(long bound) {
        return Math.min(bound - 1, (long) Math.floor(bound * fraction));
    }
}
