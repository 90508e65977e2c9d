package io.switchboard.doctor;

import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * This process's open-file limit and the client connections it leaves room for, counted as the doctor counts them
 * (one file per connection, {@link ConnectionCost#RESERVED_FDS} kept for the JVM): where a listening process takes its
 * default maximum of connections from. Stateless.
 */
public final class OpenFileLimit {
    private OpenFileLimit() {
    }

    /**
     * The soft open-file limit of this process from {@code /proc/self/limits} (a JVM raises it to the hard limit as it
     * starts); empty where it cannot be read.
     */
    public static OptionalLong current() {
        return current(Path.of("/"));
    }

    static OptionalLong current(Path root) {
        long[] softHard = new SystemFiles(root).read("/proc/self/limits").map(OpenFilesCheck::parseLimits).orElse(null);
        return softHard == null ? OptionalLong.empty() : OptionalLong.of(softHard[0]);
    }

    /** Connections a server with a limit of {@code openFiles} files can hold, after the reserve; 0 when none. */
    public static long serverConnections(long openFiles) {
        return Context.connectionsWithin(openFiles, Role.SERVER.socketsPerConnection());
    }
}
