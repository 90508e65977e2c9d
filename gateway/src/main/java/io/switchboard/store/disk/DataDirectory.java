package io.switchboard.store.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The store's directory: created if missing, locked for one process at a time (a {@code LOCK} file holding the
 * owner's pid, locked with an fcntl lock (FileChannel.tryLock) so a killed owner releases it), its segment files listed, created and
 * deleted, the directory itself synced after each so a new or removed file survives a power loss. Thread-safe
 * enough for its use: opened once, then used by the writer thread.
 */
final class DataDirectory implements AutoCloseable {
    static final String LOCK_FILE = "LOCK";
    private static final Pattern SEGMENT_NAME = Pattern.compile("segment-(\\d{10})\\.swblog");

    final Path path;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private DataDirectory(Path path, FileChannel lockChannel, FileLock lock) {
        this.path = path;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Creates (if needed) and locks {@code dir}. Every failure is an {@link IllegalStateException} with one line
     * that says what is wrong and how to fix it.
     */
    static DataDirectory open(Path dir) {
        Path path = dir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(path);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the data directory " + path + " (" + reason(e)
                    + "): create it, or choose another with --data-dir");
        }
        if (!Files.isDirectory(path) || !Files.isWritable(path)) {
            throw new IllegalStateException("the data directory " + path + " is not a writable directory: fix its "
                    + "permissions, or choose another with --data-dir");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write to the data directory " + path + " (" + reason(e)
                    + "): fix its permissions, or choose another with --data-dir");
        }
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String owner = readOwner(ch);
                ch.close();
                throw new IllegalStateException("the data directory " + path + " is in use by another switchboard "
                        + "process" + (owner.isEmpty() ? "" : " (pid " + owner + ")") + ": stop it, or give this "
                        + "one its own --data-dir");
            }
            try {
                ch.truncate(0);
                ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
                        0);
            } catch (IOException e) {
                // The pid only tells a second process who holds the lock: a full disk is no reason not to start.
                if (!noSpace(e)) {
                    throw e;
                }
            }
            return new DataDirectory(path, ch, lock);
        } catch (IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw new IllegalStateException("cannot lock the data directory " + path + " (" + reason(e)
                    + "): choose another with --data-dir");
        }
    }

    private static String readOwner(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            return "";
        }
    }

    static String reason(IOException e) {
        String file = e instanceof FileSystemException f && f.getFile() != null ? " (" + f.getFile() + ")" : "";
        if (e instanceof AccessDeniedException) {
            return "permission denied" + file;
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason() + file;
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Whether {@code e} says the file system is full (ENOSPC) or the quota is used up (EDQUOT). */
    static boolean noSpace(IOException e) {
        String m = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
        return m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"));
    }

    /** The ids of the segment files present, oldest first. */
    List<Integer> segmentIds() throws IOException {
        List<Integer> ids = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(path, "segment-*.swblog")) {
            for (Path f : files) {
                Matcher m = SEGMENT_NAME.matcher(f.getFileName().toString());
                if (m.matches()) {
                    ids.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        ids.sort(null);
        return ids;
    }

    Path segmentPath(int id) {
        return path.resolve(String.format("segment-%010d.swblog", id));
    }

    /** Creates segment {@code id} with its header, synced along with the directory; open for appends. */
    Segment create(int id) throws IOException {
        Path p = segmentPath(id);
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            ByteBuffer magic = ByteBuffer.wrap(Records.MAGIC);
            while (magic.hasRemaining()) {
                ch.write(magic);
            }
            ch.force(false);
            sync();
        } catch (IOException e) {
            ch.close();
            Files.deleteIfExists(p);
            throw e;
        }
        Segment s = new Segment(id, p, Records.MAGIC.length);
        s.channel = ch;
        return s;
    }

    void delete(Segment s) throws IOException {
        Files.deleteIfExists(s.path);
        sync();
    }

    /** Cuts {@code p} to {@code size} bytes, synced. */
    static void truncate(Path p, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            ch.force(false);
        }
    }

    /** Makes created and deleted files durable (fsync of the directory). */
    void sync() throws IOException {
        try (FileChannel dir = FileChannel.open(path, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException ignored) {
            // the process is ending; the lock goes with the file descriptor
        }
    }
}
