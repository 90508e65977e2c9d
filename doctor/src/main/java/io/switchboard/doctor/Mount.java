package io.switchboard.doctor;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The mount holding a path, from {@code /proc/self/mounts} below the root: the longest mount point
 * that is the path or one of its ancestors (the later line on a tie, as a later mount covers an
 * earlier one). Immutable.
 */
record Mount(String mountPoint, String type, boolean readOnly) {
    static final String MOUNTS = "/proc/self/mounts";

    /** The mount holding {@code absolute}, or empty when the table is missing or covers nothing. */
    static Optional<Mount> holding(SystemFiles files, Path absolute) {
        String path = absolute.toString();
        Mount best = null;
        for (String line : files.lines(MOUNTS)) {
            // device mount-point type options dump pass
            String[] f = line.split(" ");
            if (f.length < 4) {
                continue;
            }
            String point = unescape(f[1]);
            if (covers(point, path) && (best == null || point.length() >= best.mountPoint.length())) {
                best = new Mount(point, unescape(f[2]), List.of(f[3].split(",")).contains("ro"));
            }
        }
        return Optional.ofNullable(best);
    }

    private static boolean covers(String mountPoint, String path) {
        return mountPoint.equals("/") || path.equals(mountPoint) || path.startsWith(mountPoint + "/");
    }

    /** The kernel writes a space, tab, newline or backslash in a field as an octal escape ({@code \040}). */
    static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
