package io.switchboard.doctor;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The outcome of one examination: every check's result in a fixed order, and the headline
 * derived from them. The first limit is the check allowing the fewest connections (the earlier
 * check on ties). Immutable.
 */
record Report(Request request, List<CheckResult> checks, Privilege privilege) {

    Report {
        checks = List.copyOf(checks);
    }

    /** The check allowing the fewest connections, if any check caps the count. */
    Optional<CheckResult> firstLimit() {
        return checks.stream().filter(c -> c.allows() != null).min(Comparator.comparingLong(CheckResult::allows));
    }

    /** The most connections every known limit allows together. */
    OptionalLong maxConnections() {
        return firstLimit().map(c -> OptionalLong.of(c.allows())).orElse(OptionalLong.empty());
    }

    /** The first check that keeps the process from starting, if any. */
    Optional<CheckResult> firstFailure() {
        return checks.stream().filter(c -> c.status() == Status.FAIL).findFirst();
    }

    /**
     * Whether the process can start, nothing known caps connections below the target, and every limit that could
     * was checked: one whose value could not be read (a /proc hidden from this user, a process that ended meanwhile,
     * no /proc at all) is no reason to say the target is reachable.
     */
    boolean reachable() {
        return noKnownLimit() && unverified().isEmpty();
    }

    /** Whether the process can start and nothing known caps connections below the target (unknowns aside). */
    boolean noKnownLimit() {
        return checks.stream().noneMatch(c -> c.status().compareTo(Status.LIMIT) >= 0)
                && maxConnections().orElse(Long.MAX_VALUE) >= request.target();
    }

    /** Checks whose value, when known, caps connections (the others only warn). */
    private static final java.util.Set<String> CAPPING = java.util.Set.of(OpenFilesCheck.ID, NrOpenCheck.ID,
            FileMaxCheck.ID, EpollWatchesCheck.ID, LocalPortsCheck.ID, MemoryCheck.ID, HeapCheck.ID);

    /** The checks that could cap connections but whose value could not be read (warned as unknown). */
    List<CheckResult> unverified() {
        return checks.stream().filter(c -> CAPPING.contains(c.id()) && c.status() == Status.WARN
                && (c.values().containsKey("missing") || c.values().containsKey("unparsable"))).toList();
    }

    /**
     * "This process would not start here: X (current)." when a check fails, else "This process can
     * hold at most N connections here; the first limit is X (current)."
     */
    String headline() {
        Optional<CheckResult> failure = firstFailure();
        if (failure.isPresent()) {
            return request.subject() + " would not start here: " + failure.get().name() + " (" + failure.get().current() + ").";
        }
        Optional<CheckResult> first = firstLimit();
        if (first.isEmpty()) {
            return request.subject() + ": no limit found that caps connections (values unknown).";
        }
        CheckResult c = first.get();
        return request.subject() + " can hold at most " + Counts.count(c.allows()) + " connections here; the first limit is "
                + c.name() + " (" + c.current() + ").";
    }

    /** "Target 1,000,000 connections (role server): not reachable." */
    String verdict() {
        boolean otherwise = noKnownLimit();
        return "Target " + Counts.count(request.target()) + " connections (role " + request.role().cliName() + "): "
                + (reachable() ? "reachable." : otherwise ? "NOT VERIFIED (could not check: " + String.join(", ",
                unverified().stream().map(CheckResult::name).toList()) + ")." : "NOT reachable.");
    }

    /** The results that need attention, in check order. */
    List<CheckResult> needingAttention() {
        return checks.stream().filter(c -> c.status() != Status.OK).toList();
    }
}
