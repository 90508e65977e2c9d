package io.switchboard.doctor;

import java.util.Locale;

/** Verdict of one check against the target. Immutable. */
public enum Status {
    /** Allows the target, or does not cap connections. */
    OK,
    /** Allows the target, but something deserves attention (unknown value, a risk under bursts or load). */
    WARN,
    /** Caps connections below the target. */
    LIMIT,
    /** Keeps the process from starting or running as asked at all (an unusable data directory), whatever the target. */
    FAIL;

    /** Lower-case name as printed and in JSON. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
