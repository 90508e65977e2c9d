package io.switchboard.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The tightest cgroup memory limit over a process's cgroup and its ancestors (v2
 * {@code memory.max}/{@code memory.current}, v1 {@code memory.limit_in_bytes}/{@code memory.usage_in_bytes}).
 * Immutable.
 */
record CgroupMemory(long limitBytes, long usageBytes, String file) {
    private static final String V2_ROOT = "/sys/fs/cgroup";
    private static final String V1_ROOT = "/sys/fs/cgroup/memory";

    long remainingBytes() {
        return Math.max(0, limitBytes - usageBytes);
    }

    /** The limit leaving the least room, or empty when no cgroup limits memory. */
    static Optional<CgroupMemory> read(SystemFiles files, String procDir) {
        List<CgroupMemory> found = new ArrayList<>();
        for (String line : files.lines(procDir + "/cgroup")) {
            // hierarchy-id:controllers:path; v2 is "0::/path".
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                collect(files, V2_ROOT, f[2], "memory.max", "memory.current", found);
            } else if (List.of(f[1].split(",")).contains("memory")) {
                collect(files, V1_ROOT, f[2], "memory.limit_in_bytes", "memory.usage_in_bytes", found);
            }
        }
        if (found.isEmpty()) {
            // No /proc/<pid>/cgroup (or no memory line): a container's own cgroup is mounted at the root.
            collect(files, V2_ROOT, "/", "memory.max", "memory.current", found);
            collect(files, V1_ROOT, "/", "memory.limit_in_bytes", "memory.usage_in_bytes", found);
        }
        return found.stream().min((a, b) -> Long.compare(a.remainingBytes(), b.remainingBytes()));
    }

    private static void collect(SystemFiles files, String mount, String path, String limitName, String usageName,
                                List<CgroupMemory> out) {
        String dir = path.strip();
        while (true) {
            String base = dir.equals("/") || dir.isEmpty() ? mount : mount + dir;
            Optional<String> limit = files.read(base + "/" + limitName);
            if (limit.isPresent()) {
                OptionalLong bytes = SystemFiles.firstNumber(limit.get());
                // v2 says "max", v1 a huge page-aligned number when unlimited.
                if (bytes.isPresent() && bytes.getAsLong() < Counts.UNLIMITED) {
                    long usage = files.readLong(base + "/" + usageName).orElse(0);
                    out.add(new CgroupMemory(bytes.getAsLong(), usage, base + "/" + limitName));
                }
            }
            if (dir.equals("/") || dir.isEmpty()) {
                return;
            }
            int slash = dir.lastIndexOf('/');
            dir = slash <= 0 ? "/" : dir.substring(0, slash);
        }
    }
}
