package io.switchboard.doctor;

import java.nio.file.Path;

/**
 * What to examine: the role, the connections wanted, the process ({@code pid} 0 = the examining
 * process itself), for outbound roles the source and destination address counts, and for the
 * server its {@code --data-dir} as given ({@code dataDir}, relative to the working directory;
 * null = not examined, as in the startup warning, which runs inside the server that holds that
 * directory's lock). Immutable.
 */
record Request(Role role, long target, long pid, int sources, int destinations, Path dataDir) {

    Request {
        if (target < 1 || pid < 0 || sources < 1 || destinations < 1) {
            throw new IllegalArgumentException("target, sources and destinations must be positive, pid not negative");
        }
    }

    /** A request that leaves the data directory out. */
    Request(Role role, long target, long pid, int sources, int destinations) {
        this(role, target, pid, sources, destinations, null);
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
