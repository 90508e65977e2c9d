package io.switchboard.doctor;

/**
 * One limit that can cap connections. Implementations are stateless and never throw for missing
 * or malformed files: they report "unknown" instead. Safe from any thread.
 */
interface Check {

    /** Whether this limit matters for the role. */
    boolean appliesTo(Role role);

    /** Reads the limit and judges it against the request's target. */
    CheckResult run(Context ctx);
}
