package io.switchboard.api;

/**
 * A request's raw path cut at '/' as {@code path.split("/")} cuts it (empty segments kept, trailing empty ones
 * dropped, a path without '/' one segment), but without copying: a segment becomes a string only when asked for.
 * Every push is routed on its path, and the split's list, array and strings were a tenth of a push's garbage.
 * Not thread-safe (one request's, on its loop).
 */
final class ApiPath {
    /** Segments whose bounds are kept; a path with more is only counted (no route has more than five). */
    private static final int KEPT = 6;

    private final String raw;
    /** Where segment i starts; it ends where the '/' before segment i + 1 is, or at the end of the path. */
    private final int[] starts = new int[KEPT];
    private final int count;

    ApiPath(String raw) {
        this.raw = raw;
        int n = 0;
        int start = 0;
        int lastNonEmpty = -1; // trailing empty segments are dropped, as String.split drops them
        while (true) {
            int slash = raw.indexOf('/', start);
            int end = slash < 0 ? raw.length() : slash;
            if (n < KEPT) {
                starts[n] = start;
            }
            if (end > start) {
                lastNonEmpty = n;
            }
            n++;
            if (slash < 0) {
                break;
            }
            start = slash + 1;
        }
        // String.split keeps a path without any '/' whole, even when empty.
        count = raw.indexOf('/') < 0 ? 1 : lastNonEmpty + 1;
    }

    /** The number of segments ({@code path.split("/").length}). */
    int count() {
        return count;
    }

    /** Whether segment {@code i} is {@code s}; false for a segment past {@link #count()}. */
    boolean is(int i, String s) {
        if (i >= count || i >= KEPT) {
            return false;
        }
        int start = starts[i];
        return endOfSegment(i) - start == s.length() && raw.startsWith(s, start);
    }

    /** Segment {@code i} as a string ({@code path.split("/")[i]}); {@code i} below {@link #count()} and 6. */
    String segment(int i) {
        if (i >= count || i >= KEPT) {
            throw new IndexOutOfBoundsException("segment " + i + " of " + count);
        }
        return raw.substring(starts[i], endOfSegment(i));
    }

    private int endOfSegment(int i) {
        int slash = raw.indexOf('/', starts[i]);
        return slash < 0 ? raw.length() : slash;
    }

    @Override
    public String toString() {
        return raw;
    }
}
