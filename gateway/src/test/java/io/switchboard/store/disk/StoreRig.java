package io.switchboard.store.disk;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.switchboard.clock.ManualClock;
import io.switchboard.store.MessageStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Opens disk stores on one directory with a manual clock, and collects what they recover. For one test. */
final class StoreRig {
    static final long START_MS = 1_700_000_000_000L;

    final Path dir;
    final ManualClock clock = new ManualClock(START_MS);
    DiskStore.Fsync fsync = DiskStore.Fsync.BATCH;
    long segmentBytes = 64 * 1024;
    long maxBytes = Long.MAX_VALUE / 4;

    StoreRig(Path dir) {
        this.dir = dir;
    }

    record Client(long lastSeq, List<MessageStore.Stored> messages) {
    }

    /** Opens a store and recovers it; {@code into} gets what it recovered. */
    DiskStore open(Map<String, Client> into) {
        DiskStore s = DiskStore.open(new DiskStore.Settings(dir, fsync, 50, segmentBytes, maxBytes), clock);
        s.recover((id, lastSeq, messages) -> {
            if (into.put(id, new Client(lastSeq, List.copyOf(messages))) != null) {
                fail("recovered " + id + " twice");
            }
        });
        return s;
    }

    DiskStore open() {
        return open(new LinkedHashMap<>());
    }

    /** Closes {@code store}, opens the directory again and returns what it recovered (then closes that too). */
    Map<String, Client> reopen(DiskStore store) {
        store.close();
        Map<String, Client> got = new LinkedHashMap<>();
        open(got).close();
        return got;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Appends and waits until the store kept it. */
    static void append(DiskStore s, String id, long seq, long expiresAtMs, String payload) {
        CompletableFuture<Throwable> done = new CompletableFuture<>();
        s.append(id, seq, expiresAtMs, bytes(payload), done::complete);
        try {
            assertNull(done.get(10, TimeUnit.SECONDS), "append " + id + "/" + seq);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void await(BooleanSupplier condition, String what) {
        await(condition, () -> what);
    }

    static void await(BooleanSupplier condition, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what.get());
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
