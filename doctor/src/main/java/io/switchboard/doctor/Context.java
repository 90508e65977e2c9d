package io.switchboard.doctor;

import java.util.Optional;

/**
 * Everything a check may look at: the files below the root, the request, the privilege of the
 * examining process, the kernel version and the JVM's maximum heap. Immutable.
 */
record Context(SystemFiles files, Request request, Privilege privilege, Optional<KernelVersion> kernel,
               long jvmMaxHeapBytes) {

    Role role() {
        return request.role();
    }

    long target() {
        return request.target();
    }

    /** Files, sockets, watches or conntrack entries needed for the target. */
    long perConnection(long units) {
        return Counts.mul(request.target(), units);
    }

    /** Descriptors (or watches) the target needs at {@code perConnection} each, plus the process's reserve. */
    long withReserve(long perConnection) {
        return Counts.add(perConnection(perConnection), ConnectionCost.RESERVED_FDS);
    }

    /** Connections a limit of {@code limit} descriptors allows at {@code perConnection} each, after the reserve. */
    static long connectionsWithin(long limit, long perConnection) {
        return Math.max(0, limit - ConnectionCost.RESERVED_FDS) / perConnection;
    }

    /** Sets the fix's blocker for sysctl {@code name} on the builder, if there is one. */
    void sysctlBlocker(CheckResult.Builder b, String name) {
        privilege.sysctlBlocker(name).ifPresent(b::cannotRaise);
    }
}
