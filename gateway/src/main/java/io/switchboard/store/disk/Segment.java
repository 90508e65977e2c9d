package io.switchboard.store.disk;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * One segment file of the log and what is still live in it. Only the newest (active) one is open for appends; the
 * others are sealed and only read again by compaction. Owned by the writer thread (recovery before it starts).
 */
final class Segment {
    final int id;
    final Path path;
    /** Open while this is the active segment; null once sealed. */
    FileChannel channel;
    /** Bytes in the file, header included (for the active segment: written or about to be, this batch). */
    long size;
    /** Bytes of the live message records in it. */
    long liveBytes;
    int liveRecords;

    Segment(int id, Path path, long size) {
        this.id = id;
        this.path = path;
        this.size = size;
    }

    boolean hasRecords() {
        return size > Records.MAGIC.length;
    }

    @Override
    public String toString() {
        return path.getFileName().toString();
    }
}
