package io.switchboard.store.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads one segment file from the start, a bounded number of bytes per {@link #read} call (so compaction can work
 * in slices between appends), through a buffer that grows only to the largest record. Stops for good at the end of
 * the file or at the first record that is torn or damaged: {@link #validEnd()} is then where the intact records end
 * and {@link #problem()} says what was found after them. For one thread.
 */
final class SegmentReader implements AutoCloseable {
    private static final int INITIAL_BUFFER = 256 * 1024;

    private final Path path;
    private final FileChannel channel;
    private final long fileSize;
    /** In read mode: position is the next unread byte, limit the end of what was read from the file. */
    private ByteBuffer buf = ByteBuffer.allocate(INITIAL_BUFFER).flip();
    /** File offset of the next record. */
    private long offset;
    private boolean ended;
    private String problem;

    private SegmentReader(Path path, FileChannel channel) throws IOException {
        this.path = path;
        this.channel = channel;
        this.fileSize = channel.size();
    }

    /**
     * Opens {@code path} and checks its header. A file too short to hold the header (a crash while it was being
     * created) reads as having no records, with a problem; a file with a different header is not a segment.
     */
    static SegmentReader open(Path path) throws IOException {
        SegmentReader r = new SegmentReader(path, FileChannel.open(path, StandardOpenOption.READ));
        try {
            if (!r.fill(Records.MAGIC.length)) {
                r.stop(0, "a header of " + r.fileSize + " bytes, shorter than a segment's " + Records.MAGIC.length);
                return r;
            }
            byte[] magic = new byte[Records.MAGIC.length];
            r.buf.get(magic);
            if (!Arrays.equals(magic, Records.MAGIC)) {
                throw new IOException(path + " is not a segment of this store (its first bytes are not "
                        + "SWBLOG1): move it out of the data directory");
            }
            r.offset = Records.MAGIC.length;
            return r;
        } catch (IOException | RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /**
     * Visits the records that start within the next {@code maxBytes} bytes (at least one record when any is left).
     * Returns false once the end is reached (then {@link #validEnd()} and {@link #problem()} are final).
     */
    boolean read(Records.Visitor visitor, long maxBytes) throws IOException {
        long until = offset + Math.max(1, maxBytes);
        while (!ended && offset < until) {
            if (!fill(Records.FRAME)) {
                stop(offset, buf.hasRemaining() ? "a torn record header (" + buf.remaining() + " bytes)" : null);
                break;
            }
            int length = buf.getInt(buf.position());
            int crc = buf.getInt(buf.position() + 4);
            if (length < 3 || length > Records.MAX_BODY) {
                stop(offset, "an impossible record length " + length);
                break;
            }
            if (!fill(Records.FRAME + length)) {
                stop(offset, "a torn record (" + buf.remaining() + " of " + (Records.FRAME + length) + " bytes)");
                break;
            }
            int bodyStart = buf.position() + Records.FRAME;
            if (Records.crc(buf, bodyStart, length) != crc) {
                stop(offset, "a record whose checksum does not match");
                break;
            }
            ByteBuffer body = buf.duplicate().position(bodyStart).limit(bodyStart + length);
            if (!Records.decode(body, length, visitor)) {
                stop(offset, "a record whose fields do not fit its length");
                break;
            }
            buf.position(bodyStart + length);
            offset += Records.FRAME + length;
        }
        return !ended;
    }

    /** Reads everything left. */
    void readAll(Records.Visitor visitor) throws IOException {
        while (read(visitor, Long.MAX_VALUE / 2)) {
            // until the end
        }
    }

    /** Where the intact records end (the file's size after a clean read). */
    long validEnd() {
        return offset;
    }

    long fileSize() {
        return fileSize;
    }

    /** What was found after the intact records, or null when the file ended cleanly. */
    String problem() {
        return problem;
    }

    Path path() {
        return path;
    }

    private void stop(long at, String why) {
        offset = at;
        ended = true;
        problem = why;
    }

    /** Makes at least {@code n} bytes readable at the position; false when the file ends first. */
    private boolean fill(int n) throws IOException {
        if (buf.remaining() >= n) {
            return true;
        }
        if (buf.capacity() < n) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(n, buf.capacity() * 2));
            bigger.put(buf).flip();
            buf = bigger;
        }
        buf.compact();
        try {
            while (buf.position() < n) {
                if (channel.read(buf) < 0) {
                    break;
                }
            }
        } finally {
            buf.flip();
        }
        return buf.remaining() >= n;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
