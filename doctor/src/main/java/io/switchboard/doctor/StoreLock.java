package io.switchboard.doctor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Whether a process holds the disk store's lock on a data directory. A running server keeps the
 * directory's {@code LOCK} file locked ({@link FileChannel#tryLock()}) and its pid written in it;
 * the probe tries a lock of its own and releases it at once, and never creates the file. Closing
 * the probe's channel drops every lock this JVM holds on the file, so never probe from the process
 * that owns the store. Immutable.
 *
 * @param state whether the lock is held
 * @param owner the pid written in the file when held, "" when the file names none
 */
record StoreLock(State state, String owner) {
    /** The store's lock file inside a data directory, as the gateway names it. */
    static final String FILE = "LOCK";
    private static final int MAX_PID_BYTES = 32;

    /** What the probe found. */
    enum State {
        /** No lock file, or nobody holds it. */
        FREE,
        /** Another process holds it (or this JVM: a lock it holds overlaps the probe's). */
        HELD,
        /** The lock file could not be opened or locked. */
        UNKNOWN
    }

    static final StoreLock FREE = new StoreLock(State.FREE, "");

    /** Probes the lock file in {@code dir}; never throws. */
    static StoreLock probe(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return FREE;
        }
        // A shared lock needs only read access, so a doctor that may not write the file can still tell.
        boolean writable = Files.isWritable(file);
        try (FileChannel ch = writable ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)
                                       : FileChannel.open(file, StandardOpenOption.READ)) {
            boolean held;
            try {
                FileLock lock = ch.tryLock(0, Long.MAX_VALUE, !writable);
                held = lock == null;
                if (lock != null) {
                    lock.release();
                }
            } catch (OverlappingFileLockException e) {
                held = true;
            }
            return held ? new StoreLock(State.HELD, owner(ch)) : FREE;
        } catch (IOException | RuntimeException e) {
            return new StoreLock(State.UNKNOWN, "");
        }
    }

    /** The pid the owner wrote, or "" when the file holds no number. */
    private static String owner(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAX_PID_BYTES);
        ch.read(b, 0);
        String text = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip();
        return text.matches("\\d{1,19}") ? text : "";
    }

    boolean held() {
        return state == State.HELD;
    }
}
