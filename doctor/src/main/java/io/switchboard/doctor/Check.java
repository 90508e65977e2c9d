package io.switchboard.doctor;

/**
 * One limit that can cap connections, or a condition that keeps the process from starting.
 * Implementations are stateless and never throw for missing or malformed files: they report
 * "unknown" instead. Safe from any thread.
 */
interface Check {

    /** Whether this limit matters for the role. */
    boolean appliesTo(Role role);

    /** Whether this check runs for the request; by default whenever it applies to the role. */
    default boolean appliesTo(Request request) {
        return appliesTo(request.role());
    }

    /** Reads the limit and judges it against the request's target. */
    CheckResult run(Context ctx);
}
