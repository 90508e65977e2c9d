package io.switchboard.config;

/** Wall-clock time in epoch milliseconds, injected so tests drive time instead of sleeping. Thread-safe. */
@FunctionalInterface
public interface Clock {
    long nowMs();

    Clock SYSTEM = System::currentTimeMillis;
}
