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
 * and {@link #problem()} says what was found after them.
 *
 * <p>Damage is skipped where intact records follow it ({@link #skipped()}), and the reading goes on: a whole record
 * (its length possible, its bytes all there) whose checksum or fields are wrong, followed by an intact record, is
 * skipped; damage where a record should start (an impossible length, or two damaged records in a row, the first
 * one's length being the damaged part) is skipped up to the next intact record found after it. A damaged
 * byte or page in the middle of an older segment (the disk's, or a stray write) loses the records it covers, not
 * every record after it. Damage that nothing intact follows is taken for the torn tail of a crash and stopped at,
 * as before. For one thread.
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
    /** The store's newest segment (see {@link #open(Path, boolean)}). */
    private boolean newest;
    private String problem;
    /** A whole record found damaged, kept aside until the next one says whether to skip it or stop there; -1: none. */
    private long suspectAt = -1;
    private String suspectWhy;
    private long skipped;
    private long skippedBytes;
    private String firstSkipped;

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
        return open(path, false);
    }

    /**
     * As {@link #open(Path)}; {@code newest}: the store's newest segment, the one a crash can leave torn, whose
     * record cut short by the end of the file is cut there rather than searched past.
     */
    static SegmentReader open(Path path, boolean newest) throws IOException {
        SegmentReader r = new SegmentReader(path, FileChannel.open(path, StandardOpenOption.READ));
        r.newest = newest;
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
                if (!resync("an impossible record length " + length)) {
                    break;
                }
                continue;
            }
            if (!fill(Records.FRAME + length)) {
                // The file ends within the record. In the newest segment that is a crash's torn tail: cut there (a
                // search through the half-written payload could take bytes a client sent for a record). In an
                // older, sealed one it is a damaged length that runs past the end: the intact records after it
                // (found by resync) are kept.
                String torn = "a torn record (" + buf.remaining() + " of " + (Records.FRAME + length) + " bytes)";
                if (newest) {
                    stop(offset, torn);
                    break;
                }
                if (!resync(torn)) {
                    break;
                }
                continue;
            }
            int bodyStart = buf.position() + Records.FRAME;
            // decode visits nothing when the fields do not fit.
            String damage = Records.crc(buf, bodyStart, length) != crc ? "a record whose checksum does not match"
                    : !Records.decode(buf.duplicate().position(bodyStart).limit(bodyStart + length), length, visitor)
                    ? "a record whose fields do not fit its length" : null;
            if (damage != null) {
                if (suspectAt >= 0) {
                    // Two in a row: the first one's length was likely the damaged part, and this is garbage.
                    if (!resync(damage)) {
                        break;
                    }
                    continue;
                }
                suspectAt = offset;
                suspectWhy = damage;
            } else {
                if (suspectAt >= 0) {
                    // An intact record after the damaged one: that one is skipped, the reading goes on.
                    skipped++;
                    skippedBytes += offset - suspectAt;
                    if (firstSkipped == null) {
                        firstSkipped = suspectWhy + " at offset " + suspectAt;
                    }
                    suspectAt = -1;
                }
            }
            buf.position(bodyStart + length);
            offset += Records.FRAME + length;
        }
        return !ended;
    }

    /**
     * Damage where a record should start (an impossible length, or a second damaged record in a row, whose reading
     * followed a damaged length): looks for the next intact record after where the damage began, within the largest
     * record (16 MiB and its frame), and goes on
     * from it with the bytes in between skipped (true). A damaged length field or page loses the records it covers,
     * not the rest of the segment, however long the damaged record was (up to a 16 MiB payload with a raised
     * --max-payload). When none is found (a crash's torn tail, most likely), the reading stops where the damage began
     * (false). The scan is byte by byte with cheap checks first (length, type); it happens only on damage.
     *
     * <p>Doubtful: a payload that itself holds the bytes of a whole valid record (written so on purpose) could be
     * taken for one when a damaged length points into it; a checksum over the length would not help against that.
     */
    private boolean resync(String why) throws IOException {
        long start = suspectAt >= 0 ? suspectAt : offset;
        String what = suspectAt >= 0 ? suspectWhy : why;
        // The next record starts within the largest one of what was damaged: no further to look.
        long found = scanForRecord(start + 1, Math.min(fileSize, start + 1 + Records.FRAME + Records.MAX_BODY));
        if (found < 0) {
            moveTo(start);
            stop(start, why);
            return false;
        }
        suspectAt = -1;
        skipped++;
        skippedBytes += found - start;
        if (firstSkipped == null) {
            firstSkipped = what + " at offset " + start;
        }
        moveTo(found);
        return true;
    }

    /** The offset of the first intact record that starts in [from, until), or -1; leaves the position anywhere. */
    private long scanForRecord(long from, long until) throws IOException {
        for (long p = from; p < until; p++) {
            moveTo(p);
            if (!fill(Records.FRAME + 3)) {
                return -1; // the file ends
            }
            int at = buf.position();
            int length = buf.getInt(at);
            byte type = buf.get(at + Records.FRAME);
            if (length < 3 || length > Records.MAX_BODY || p + Records.FRAME + length > fileSize
                    || type < Records.MESSAGE || type > Records.FORGET) {
                continue;
            }
            if (!fill(Records.FRAME + length)) {
                return -1;
            }
            at = buf.position();
            int bodyStart = at + Records.FRAME;
            if (Records.crc(buf, bodyStart, length) == buf.getInt(at + 4) && Records.decode(
                    buf.duplicate().position(bodyStart).limit(bodyStart + length), length, Records.Visitor.NONE)) {
                return p;
            }
        }
        return -1;
    }

    /** Moves the reading to file offset {@code p} (within the buffer when it holds it, else read from the file). */
    private void moveTo(long p) throws IOException {
        long bufferStart = offset - buf.position(); // buf's index 0 holds this offset's byte
        if (p >= bufferStart && p <= bufferStart + buf.limit()) {
            buf.position((int) (p - bufferStart));
        } else {
            channel.position(p);
            buf.position(0).limit(0);
        }
        offset = p;
    }

    /** Damaged records skipped so far because an intact one followed each. */
    long skipped() {
        return skipped;
    }

    /**
     * The bytes of the skipped records. The checksum covers a record's body, not its length: a damaged length that
     * happens to land on a record's start skips the intact records in between as one.
     */
    long skippedBytes() {
        return skippedBytes;
    }

    /** What the first skipped record was and where, or null when none was skipped. */
    String firstSkipped() {
        return firstSkipped;
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

    /**
     * Ends the reading at {@code at}, or at the damaged record kept aside before it: nothing intact followed that
     * one, so it is where the intact records end (a crash's torn tail, most likely).
     */
    private void stop(long at, String why) {
        if (suspectAt >= 0) {
            at = suspectAt;
            why = suspectWhy + (why == null ? ", and nothing after it" : ", then " + why);
            suspectAt = -1;
        }
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
