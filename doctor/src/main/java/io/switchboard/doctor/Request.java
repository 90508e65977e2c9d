package io.switchboard.doctor;

/**
 * What to examine: the role, the connections wanted, the process ({@code pid} 0 = the examining
 * process itself) and, for outbound roles, the source and destination address counts. Immutable.
 */
record Request(Role role, long target, long pid, int sources, int destinations) {

    Request {
        if (target < 1 || pid < 0 || sources < 1 || destinations < 1) {
            throw new IllegalArgumentException("target, sources and destinations must be positive, pid not negative");
        }
    }

    /** {@code /proc/self} or {@code /proc/PID}. */
    String procDir() {
        return pid == 0 ? "/proc/self" : "/proc/" + pid;
    }

    /** How the examined process is named in sentences. */
    String subject() {
        return pid == 0 ? "This process" : "Process " + pid;
    }
}
