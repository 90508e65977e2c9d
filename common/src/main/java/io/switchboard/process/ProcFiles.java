package io.switchboard.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory readings from Linux's /proc, in bytes; -1 where the file or field does not exist. Stateless. */
public final class ProcFiles {
    private ProcFiles() {}

    /** Resident set size of a process ({@code "self"} or a pid), from {@code /proc/<pid>/status} VmRSS. */
    public static long rssBytes(String pid) {
        return kbField(Path.of("/proc", pid, "status"), "VmRSS:");
    }

    /** A field of {@code /proc/meminfo} such as {@code "Slab:"}. */
    public static long meminfoBytes(String field) {
        return kbField(Path.of("/proc/meminfo"), field);
    }

    private static long kbField(Path file, String field) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
