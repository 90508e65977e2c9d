package io.switchboard.store.disk;

import static io.switchboard.store.disk.StoreRig.append;
import static io.switchboard.store.disk.StoreRig.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.store.MessageStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskStoreTest {
    @TempDir
    Path dir;

    private static List<Long> seqs(StoreRig.Client c) {
        return c.messages().stream().map(MessageStore.Stored::seq).toList();
    }

    /** Appends m1 to m4 for client a, expiring in a minute; returns that expiry. */
    private static long appendFour(DiskStore s) {
        long exp = StoreRig.START_MS + 60_000;
        for (int i = 1; i <= 4; i++) {
            append(s, "a", i, exp, "m" + i);
        }
        return exp;
    }

    /** Writes {@code bytes} as segment {@code seg}, recovers the store, and returns client a's payloads. */
    private static List<String> recoveredAfterWriting(StoreRig rig, Path seg, byte[] bytes) throws IOException {
        Files.write(seg, bytes);
        Map<String, StoreRig.Client> got = new TreeMap<>();
        rig.open(got).close();
        return payloads(got.get("a"));
    }

    private static List<String> payloads(StoreRig.Client c) {
        return c.messages().stream().map(m -> StoreRig.text(m.payload())).toList();
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".swblog")).sorted().toList();
        }
    }

    @Test
    void appendsAreRefusedAtOnceWhileTheOldestWaitingWriteIsOlderThanHalfTheAnswerTimeout() throws Exception {
        StoreRig rig = new StoreRig(dir);
        java.util.concurrent.CountDownLatch disk = new java.util.concurrent.CountDownLatch(1);
        StoreWriter.stalledForTests = disk; // the writer takes nothing until released: a disk that stalls
        try {
            DiskStore s = rig.open();
            long exp = StoreRig.START_MS + 600_000;
            java.util.concurrent.CompletableFuture<Throwable> first = new java.util.concurrent.CompletableFuture<>();
            s.append("a", 1, exp, StoreRig.bytes("one"), first::complete);
            rig.clock.advanceMs(4_000);
            java.util.concurrent.CompletableFuture<Throwable> second = new java.util.concurrent.CompletableFuture<>();
            s.append("a", 2, exp, StoreRig.bytes("two"), second::complete);
            assertFalse(second.isDone(), "4 s behind: still taken");
            rig.clock.advanceMs(1_500);
            java.util.concurrent.CompletableFuture<Throwable> third = new java.util.concurrent.CompletableFuture<>();
            s.append("a", 3, exp, StoreRig.bytes("three"), third::complete);
            Throwable refused = third.getNow(null);
            assertNotNull(refused, "5.5 s behind: refused at once, not after its own 10 s");
            assertTrue(refused.getMessage().startsWith("the disk is not keeping up: the oldest write has waited 5500"),
                    refused.getMessage());

            disk.countDown();
            assertNull(first.get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertNull(second.get(10, java.util.concurrent.TimeUnit.SECONDS));
            StoreRig.append(s, "a", 3, exp, "three"); // the backlog written: taken again
            Map<String, StoreRig.Client> got = rig.reopen(s);
            assertEquals(List.of("one", "two", "three"), payloads(got.get("a")));
        } finally {
            StoreWriter.stalledForTests = null;
            disk.countDown();
        }
    }

    @Test
    void appendsThatWaitedPastTheirAnswersTimeoutAreFailedNotWritten() throws Exception {
        StoreRig rig = new StoreRig(dir);
        java.util.concurrent.CountDownLatch disk = new java.util.concurrent.CountDownLatch(1);
        StoreWriter.stalledForTests = disk;
        try {
            DiskStore s = rig.open();
            long exp = StoreRig.START_MS + 600_000;
            List<java.util.concurrent.CompletableFuture<Throwable>> answers = new java.util.ArrayList<>();
            for (int seq = 1; seq <= 10; seq++) {
                java.util.concurrent.CompletableFuture<Throwable> f = new java.util.concurrent.CompletableFuture<>();
                s.append("a", seq, exp, StoreRig.bytes("m" + seq), f::complete);
                answers.add(f);
            }
            rig.clock.advanceMs(11_000); // their pushes were answered 503 after 10 s: their backend sends them again
            disk.countDown();
            for (var f : answers) {
                Throwable t = f.get(10, java.util.concurrent.TimeUnit.SECONDS);
                assertNotNull(t, "failed, not written");
                assertTrue(t.getMessage().startsWith("the disk is not keeping up: the write waited 11000"),
                        t.getMessage());
            }
            StoreRig.append(s, "a", 11, exp, "fresh"); // one that did not wait is written as usual
            Map<String, StoreRig.Client> got = rig.reopen(s);
            assertEquals(List.of("fresh"), payloads(got.get("a")), "no stored duplicate of the refused ones");
        } finally {
            StoreWriter.stalledForTests = null;
            disk.countDown();
        }
    }

    @Test
    void expiredMessagesAreNotReadIntoTheHeapAtRecovery() {
        StoreRig rig = new StoreRig(dir);
        rig.segmentBytes = 4 << 20;
        DiskStore s = rig.open();
        String payload = "p".repeat(32 * 1024);
        int n = 200;
        for (int i = 1; i <= n; i++) {
            append(s, "offline-" + (i % 20), i, StoreRig.START_MS + 60_000, payload); // clients that never came back
        }
        append(s, "back", 1, StoreRig.START_MS + 3_600_000, "still due");
        s.close();
        rig.clock.advanceMs(61_000);
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        Map<String, StoreRig.Client> got = new TreeMap<>();
        rig.open(got).close(); // recovery runs on this thread
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(List.of("still due"), payloads(got.get("back")));
        assertTrue(allocated < (long) n * payload.length() / 4, "recovery allocated " + allocated + " bytes for "
                + (long) n * payload.length() + " bytes of expired payloads");
    }

    @Test
    void aWriterStoppedByAnErrorAnswersItsBatchAtOnceAndSaysTheStoreIsBroken() throws Exception {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        assertNull(s.broken());
        StoreWriter.failNextBatchForTests = new OutOfMemoryError("test: the writer ran out of heap");
        try {
            java.util.concurrent.CompletableFuture<Throwable> first = new java.util.concurrent.CompletableFuture<>();
            s.append("a", 1, StoreRig.START_MS + 60_000, StoreRig.bytes("one"), first::complete);
            assertNotNull(first.get(5, java.util.concurrent.TimeUnit.SECONDS), "answered with the error, at once");
            StoreRig.await(() -> s.broken() != null, "the store says it is broken");
            assertTrue(s.broken().contains("restart"), s.broken());
            java.util.concurrent.CompletableFuture<Throwable> next = new java.util.concurrent.CompletableFuture<>();
            s.append("a", 2, StoreRig.START_MS + 60_000, StoreRig.bytes("two"), next::complete);
            assertNotNull(next.getNow(null), "refused at once");
            // Every session that ends forgets: with no writer to take them, they piled up (up to a million).
            for (int i = 0; i < 1_000; i++) {
                s.forget("c" + i);
                s.acknowledged("c" + i, 1);
            }
            assertEquals(0, s.waitingForWriter(), "nothing queued for a writer that is gone");
        } finally {
            StoreWriter.failNextBatchForTests = null;
            s.close();
        }
        assertNull(s.broken(), "a closed store is not broken");
    }

    @Test
    void aNewSessionNumberedFromOneWhoseForgetWasLostReplacesWhatTheOldOneKept() {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        append(s, "a", 5, exp, "old five");
        append(s, "a", 6, exp, "old six");
        // --seq-origin zero: the session ended and a new one numbers from 1; its FORGET never reached the writer.
        append(s, "a", 1, exp, "new one");
        append(s, "a", 2, exp, "new two");
        Map<String, StoreRig.Client> got = rig.reopen(s);
        assertEquals(List.of("new one", "new two"), payloads(got.get("a")));
    }

    @Test
    void pendingMessagesComeBackInSeqOrderWithTheirExpiryAndTheLastSeq() {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        append(s, "a", 5, exp, "five");
        append(s, "b", 1, exp, "b-one");
        append(s, "a", 6, exp + 1, "six");
        Map<String, StoreRig.Client> got = rig.reopen(s);
        assertEquals(List.of(5L, 6L), seqs(got.get("a")));
        assertEquals(List.of("five", "six"), payloads(got.get("a")));
        assertEquals(exp + 1, got.get("a").messages().get(1).expiresAtMs());
        assertEquals(6, got.get("a").lastSeq());
        assertEquals(List.of("b-one"), payloads(got.get("b")));
    }

    @Test
    void anAcknowledgedMessageCompactionCopiedIsNotRecoveredAfterAYoungerOne() throws IOException {
        // As compaction leaves them: seq 10's original segment is gone, its copy sits in a later segment than seq 20,
        // and the ACK of 10 came after the copy.
        long exp = StoreRig.START_MS + 60_000;
        byte[] id = Records.id("a");
        java.nio.ByteBuffer two = java.nio.ByteBuffer.allocate(1024).put(Records.MAGIC);
        Records.putMessage(two, id, 20, exp, StoreRig.bytes("twenty"));
        java.nio.ByteBuffer three = java.nio.ByteBuffer.allocate(1024).put(Records.MAGIC);
        Records.putMessage(three, id, 10, exp, StoreRig.bytes("ten, copied"));
        Records.putAck(three, id, 10);
        Files.write(dir.resolve(String.format("segment-%010d.swblog", 2)),
                java.util.Arrays.copyOf(two.array(), two.position()));
        Files.write(dir.resolve(String.format("segment-%010d.swblog", 3)),
                java.util.Arrays.copyOf(three.array(), three.position()));

        Map<String, StoreRig.Client> got = new java.util.LinkedHashMap<>();
        new StoreRig(dir).open(got).close();

        assertEquals(List.of(20L), seqs(got.get("a")), "10 was acknowledged: it must not come back");
        assertEquals(20, got.get("a").lastSeq());
    }

    @Test
    void acknowledgedMessagesAreNotRecoveredButStillCountForTheLastSeq() {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        for (int seq = 1; seq <= 5; seq++) {
            append(s, "a", seq, exp, "m" + seq);
        }
        append(s, "b", 1, exp, "b1");
        s.acknowledged("a", 3);
        s.acknowledged("b", 1);
        Map<String, StoreRig.Client> got = rig.reopen(s);
        assertEquals(List.of(4L, 5L), seqs(got.get("a")));
        assertFalse(got.containsKey("b"), "b has nothing left to keep");
    }

    @Test
    void expiredMessagesAreNotRecovered() {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        append(s, "a", 1, StoreRig.START_MS + 1_000, "short");
        append(s, "a", 2, StoreRig.START_MS + 60_000, "long");
        append(s, "b", 1, StoreRig.START_MS + 1_000, "short");
        rig.clock.advanceMs(2_000);
        Map<String, StoreRig.Client> got = rig.reopen(s);
        assertEquals(List.of("long"), payloads(got.get("a")));
        assertEquals(2, got.get("a").lastSeq());
        assertFalse(got.containsKey("b"));
    }

    @Test
    void aForgottenClientStartsAfreshEvenWithLowerSeqs() {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        append(s, "a", 7, exp, "old");
        s.forget("a");
        append(s, "a", 1, exp, "new"); // a new session numbering from 1 (--seq-origin zero)
        Map<String, StoreRig.Client> got = rig.reopen(s);
        assertEquals(List.of("new"), payloads(got.get("a")));
        assertEquals(1, got.get("a").lastSeq());
    }

    @Test
    void aNewSessionNumberingAgainAfterItsPredecessorWasAcknowledgedIsRecovered() {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        append(s, "a", 7, exp, "old");
        s.acknowledged("a", 7); // nothing of a is kept now: its forget below writes no record
        s.forget("a");
        append(s, "a", 1, exp, "new"); // a new session numbering from 1 (--seq-origin zero), answered stored
        Map<String, StoreRig.Client> got = rig.reopen(s);
        assertEquals(List.of("new"), payloads(got.get("a")), "not taken for acknowledged by the old ACK of 7");
        assertTrue(got.get("a").lastSeq() >= 1);
    }

    @Test
    void aTornLastRecordIsCutAtEveryByteAndTheRestRecovered() throws IOException {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        append(s, "a", 1, exp, "kept");
        append(s, "a", 2, exp, "torn");
        s.close();
        Path seg = segmentFiles().getFirst();
        byte[] whole = Files.readAllBytes(seg);
        int last = Records.messageBytes(1, 4);
        for (int cut = whole.length - last; cut < whole.length; cut++) {
            Files.write(seg, java.util.Arrays.copyOf(whole, cut));
            Map<String, StoreRig.Client> got = new TreeMap<>();
            rig.open(got).close();
            assertEquals(List.of("kept"), payloads(got.get("a")), "cut at " + cut);
            assertEquals(whole.length - last, Files.size(seg), "the torn tail is cut off the file, cut at " + cut);
        }
    }

    @Test
    void aDamagedRecordWithIntactOnesAfterItIsSkippedAndTheRestKept() throws IOException {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = appendFour(s);
        s.close();
        Path seg = segmentFiles().getFirst();
        byte[] whole = Files.readAllBytes(seg);
        int record = Records.messageBytes(1, 2);
        assertEquals(Records.MAGIC.length + 4 * record, whole.length);

        // A flipped byte in the second record's payload: that message is lost, not the two after it.
        byte[] damaged = whole.clone();
        damaged[Records.MAGIC.length + 2 * record - 1] ^= 0x40;
        assertEquals(List.of("m1", "m3", "m4"), recoveredAfterWriting(rig, seg, damaged));
        assertEquals(whole.length, Files.size(seg), "nothing is cut");

        // Damaged last: taken for a torn tail, cut there as before.
        damaged = whole.clone();
        damaged[whole.length - 1] ^= 0x40;
        assertEquals(List.of("m1", "m2", "m3"), recoveredAfterWriting(rig, seg, damaged));
        assertEquals(whole.length - record, Files.size(seg), "the damaged tail is cut off");

        // Two damaged in a row (the second read may be garbage the first one's length pointed at): the reading looks
        // for the next intact record after the first and goes on from the fourth.
        damaged = whole.clone();
        damaged[Records.MAGIC.length + 2 * record - 1] ^= 0x40;
        damaged[Records.MAGIC.length + 3 * record - 1] ^= 0x40;
        assertEquals(List.of("m1", "m4"), recoveredAfterWriting(rig, seg, damaged));
        assertEquals(whole.length, Files.size(seg), "nothing is cut");

        // A damaged length field (the second record's, made impossible): the records after it are kept.
        damaged = whole.clone();
        damaged[Records.MAGIC.length + record] = 0x7F;
        assertEquals(List.of("m1", "m3", "m4"), recoveredAfterWriting(rig, seg, damaged));
        assertEquals(whole.length, Files.size(seg), "nothing is cut");
    }

    @Test
    void aDamagedLengthRunningPastTheEndOfASealedSegmentCutsNoIntactRecordAfterIt() throws IOException {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = appendFour(s);
        s.close();
        DiskStore again = rig.open(); // a new segment: the first is sealed, no longer the one a crash could tear
        append(again, "a", 5, exp, "m5");
        again.close();
        Path seg = segmentFiles().getFirst();
        byte[] whole = Files.readAllBytes(seg);
        int record = Records.messageBytes(1, 2);
        byte[] damaged = whole.clone();
        damaged[Records.MAGIC.length + record + 1] = 0x01; // the second record's length: 64 KiB, past the end
        assertEquals(List.of("m1", "m3", "m4", "m5"), recoveredAfterWriting(rig, seg, damaged));
        assertEquals(whole.length, Files.size(seg), "nothing is cut");
    }

    @Test
    void aTornRecordAtTheEndOfTheNewestSegmentIsCutThereNotSearchedPast() throws IOException {
        // A crash mid-write: the last record's payload is half there. Its bytes (a client's) could hold a whole
        // record; they are not searched for one.
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        append(s, "a", 1, exp, "m1");
        java.nio.ByteBuffer inner = java.nio.ByteBuffer.allocate(256);
        Records.putForget(inner, Records.id("a")); // a FORGET of client a, as bytes inside b's payload
        byte[] hidden = java.util.Arrays.copyOf(inner.array(), inner.position());
        byte[] payload = new byte[200];
        System.arraycopy(hidden, 0, payload, 100, hidden.length);
        CompletableFuture<Throwable> done = new CompletableFuture<>();
        s.append("b", 1, exp, payload, done::complete);
        assertNull(done.join());
        s.close();
        Path seg = segmentFiles().getLast();
        byte[] whole = Files.readAllBytes(seg);
        int cut = whole.length - 60; // the payload's end, past the hidden record, never reached the disk
        Files.write(seg, java.util.Arrays.copyOf(whole, cut));
        Map<String, StoreRig.Client> got = new TreeMap<>();
        rig.open(got).close();
        assertEquals(List.of("m1"), payloads(got.get("a")), "the hidden FORGET in b's torn payload was not taken");
    }

    @Test
    void theRecordsAfterALargeRecordWhoseLengthIsDamagedAreKept() throws IOException {
        StoreRig rig = new StoreRig(dir);
        rig.segmentBytes = 16 << 20;
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        String large = "L".repeat(3 << 20); // with --max-payload raised above the default
        append(s, "a", 1, exp, "m1");
        append(s, "a", 2, exp, large);
        append(s, "a", 3, exp, "m3");
        append(s, "a", 4, exp, "m4");
        s.close();
        Path seg = segmentFiles().getFirst();
        byte[] damaged = Files.readAllBytes(seg);
        damaged[Records.MAGIC.length + Records.messageBytes(1, 2)] = 0x7F; // the large record's length, made impossible
        assertEquals(List.of("m1", "m3", "m4"), recoveredAfterWriting(rig, seg, damaged), "the records 3 MiB past the damage are found");
        assertEquals(damaged.length, Files.size(seg), "nothing is cut");
    }

    @Test
    void aZeroedPageInTheMiddleOfASegmentLosesOnlyTheRecordsItCovers() throws IOException {
        StoreRig rig = new StoreRig(dir);
        rig.segmentBytes = 1 << 20;
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 60_000;
        String payload = "p".repeat(90);
        int n = 200;
        for (int i = 1; i <= n; i++) {
            append(s, "a", i, exp, payload);
        }
        s.close();
        Path seg = segmentFiles().getFirst();
        byte[] damaged = Files.readAllBytes(seg);
        int record = Records.messageBytes(1, payload.length());
        java.util.Arrays.fill(damaged, 8192, 8192 + 4096, (byte) 0); // a page the disk lost
        Files.write(seg, damaged);
        Map<String, StoreRig.Client> got = new TreeMap<>();
        rig.open(got).close();
        List<Long> seqs = seqs(got.get("a"));
        long lost = n - seqs.size();
        assertTrue(lost >= 4096 / record && lost <= 4096 / record + 2, "lost " + lost + " of " + n);
        assertEquals((long) n, seqs.getLast(), "the records after the page are kept");
        assertEquals(damaged.length, Files.size(seg), "nothing is cut");
    }

    @Test
    void aStoreWritesOnlyToTheNewestSegmentAfterARestartAndKeepsOlderOnes() throws IOException {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        append(s, "a", 1, StoreRig.START_MS + 60_000, "one");
        s.close();
        assertEquals(1, segmentFiles().size(), "an empty active segment is removed on close");
        s = rig.open();
        append(s, "a", 2, StoreRig.START_MS + 60_000, "two");
        s.close();
        assertEquals(2, segmentFiles().size());
        assertEquals(List.of(1L, 2L), seqs(rig.reopen(rig.open()).get("a")));
    }

    @Test
    void compactionKeepsExactlyTheLiveRecordsAndBoundsTheFiles() throws IOException {
        StoreRig rig = new StoreRig(dir);
        rig.segmentBytes = 16 * 1024;
        DiskStore s = rig.open();
        long exp = StoreRig.START_MS + 600_000;
        String payload = "p".repeat(200);
        // 40 clients, 50 messages each (~0.5 MB over ~30 segments); every client acknowledges all but its last 2,
        // and every fifth client is forgotten after acknowledging everything.
        for (int seq = 1; seq <= 50; seq++) {
            for (int c = 0; c < 40; c++) {
                append(s, "c" + c, seq, exp, payload + seq);
            }
        }
        long before = s.stats().diskBytes();
        for (int c = 0; c < 40; c++) {
            if (c % 5 == 0) {
                s.acknowledged("c" + c, 50);
                s.forget("c" + c);
            } else {
                s.acknowledged("c" + c, 48);
            }
        }
        long live = 32L * 2 * Records.messageBytes(3, payload.length() + 2);
        await(() -> s.stats().diskBytes() <= 2 * s.stats().liveBytes() + rig.segmentBytes + 2 * Records.MAGIC.length
                && s.stats().liveBytes() <= live, () -> "compaction: " + s.stats());
        assertTrue(s.stats().diskBytes() < before / 4, s.stats() + " against " + before);
        assertEquals(64, s.stats().liveRecords());
        Map<String, StoreRig.Client> got = rig.reopen(s);
        assertEquals(32, got.size());
        for (int c = 0; c < 40; c++) {
            StoreRig.Client client = got.get("c" + c);
            if (c % 5 == 0) {
                assertEquals(null, client, "c" + c);
            } else {
                assertEquals(List.of(49L, 50L), seqs(client), "c" + c);
                assertEquals(List.of(payload + 49, payload + 50), payloads(client));
            }
        }
    }

    @Test
    void compactionCopiesTheRecordTheIndexNamesNotAnEarlierSessionsOneWithTheSameSeq() throws IOException {
        StoreRig rig = new StoreRig(dir);
        rig.segmentBytes = 4 * 1024;
        DiskStore s = rig.open();
        append(s, "a", 1, StoreRig.START_MS + 600_000, "old-session");
        s.acknowledged("a", 1);
        s.forget("a"); // nothing of a kept: no record
        append(s, "a", 1, StoreRig.START_MS + 700_000, "new-session"); // numbering from 1 again (--seq-origin zero)
        fillSegments(s);
        Path first = segmentFiles().getFirst();
        s.acknowledged("gone", 100);
        await(() -> !Files.exists(first), "the first segment compacted away");
        s.close();
        StringBuilder files = new StringBuilder();
        for (Path p : segmentFiles()) {
            files.append(new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1));
        }
        assertFalse(files.toString().contains("old-session"), "the acknowledged record was copied forward");
        Map<String, StoreRig.Client> got = new TreeMap<>();
        rig.open(got).close();
        assertEquals(List.of("new-session"), payloads(got.get("a")));
    }

    @Test
    void aSegmentCompactionCannotReadLeavesTheActiveSegmentOpen() throws IOException {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = keepOneAndFillSegments(rig, "keep");
        Files.delete(segmentFiles().getFirst()); // unreadable from now on (a bad sector, say): "keep" lives there
        s.acknowledged("gone", 100); // compaction is due, and fails on that segment
        int before = s.stats().segments();
        for (int seq = 2; seq <= 31; seq++) {
            append(s, "keep", seq, StoreRig.START_MS + 600_000, "k"); // each one a batch, housekeeping after each
        }
        assertTrue(s.stats().segments() <= before + 1, "a new segment per batch: " + s.stats() + ", before "
                + before);
        assertEquals(1, s.stats().failures(), "the failed compaction is counted, for an alert before the disk fills: "
                + s.stats());
        s.close();
    }

    @Test
    void aCompactionWhoseCopyCannotBeWrittenCutsTheSegmentBackToWhatWasWhole() throws IOException {
        // The disk full mid-slice: the copies counted in the segment's size but not (wholly) written were left
        // counted, and a partial copy at the sealed segment's end was read past at the next start as damage.
        StoreRig rig = new StoreRig(dir);
        DiskStore s = keepOneAndFillSegments(rig, "keep");
        StoreWriter.failNextCompactionWriteForTests = new IOException("test: no space left on device");
        try {
            s.acknowledged("gone", 100); // compaction is due: it copies "keep", and the write fails
            await(() -> StoreWriter.failNextCompactionWriteForTests == null && s.waitingForWriter() == 0,
                    "the compaction tried");
            // The failed segment is sealed, and no new one opens before the next append: the files stay as they are.
            long files = 0;
            for (Path p : segmentFiles()) {
                files += Files.size(p);
            }
            assertEquals(files, s.stats().diskBytes(), "the segments' sizes are what the files hold: " + s.stats());
        } finally {
            StoreWriter.failNextCompactionWriteForTests = null;
        }
        Map<String, StoreRig.Client> got = rig.reopen(s);
        assertEquals(1, got.get("keep").messages().size(), "kept where it was");
    }

    @Test
    void aRecordCopiedByCompactionIsRecoveredOnceEvenWhenTheOriginalSurvivedACrash() throws IOException {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = keepOneAndFillSegments(rig, "keep");
        Path first = segmentFiles().getFirst();
        byte[] original = Files.readAllBytes(first);
        s.acknowledged("gone", 100);
        await(() -> !Files.exists(first), "the first segment compacted away");
        s.close();
        // As if the process had died after copying and before deleting: the original is back.
        Files.write(first, original);
        Map<String, StoreRig.Client> got = new TreeMap<>();
        rig.open(got).close();
        assertEquals(List.of(1L), seqs(got.get("keep")));
        assertFalse(got.containsKey("gone"), "acknowledged in a later segment");
    }

    /**
     * Opens a store of 4 KiB segments with one record of {@code keep} (seq 1) in its first segment, followed by 100
     * records of client "gone" over the next ones ({@link #fillSegments}).
     */
    private static DiskStore keepOneAndFillSegments(StoreRig rig, String keep) {
        rig.segmentBytes = 4 * 1024;
        DiskStore s = rig.open();
        append(s, keep, 1, StoreRig.START_MS + 600_000, "k".repeat(100));
        fillSegments(s);
        return s;
    }

    /** 100 records of 100 bytes for client "gone", seqs 1-100: acknowledged, they make compaction due. */
    private static void fillSegments(DiskStore s) {
        for (int seq = 1; seq <= 100; seq++) {
            append(s, "gone", seq, StoreRig.START_MS + 600_000, "g".repeat(100));
        }
    }

    @Test
    void everyPolicyKeepsWhatIt200d() {
        for (DiskStore.Fsync policy : DiskStore.Fsync.values()) {
            Path d = dir.resolve(policy.word());
            StoreRig rig = new StoreRig(d);
            rig.fsync = policy;
            DiskStore s = rig.open();
            for (int seq = 1; seq <= 20; seq++) {
                append(s, "a", seq, StoreRig.START_MS + 60_000, "m" + seq);
            }
            if (policy != DiskStore.Fsync.INTERVAL) {
                assertTrue(s.stats().fsyncs() >= (policy == DiskStore.Fsync.ALWAYS ? 20 : 1), policy + ": "
                        + s.stats());
            }
            assertEquals(20, rig.reopen(s).get("a").messages().size(), policy.word());
        }
    }

    /** A clock the test moves: wall-clock and monotonic milliseconds. */
    private static io.switchboard.clock.Clock manualClock(java.util.concurrent.atomic.AtomicLong wallMs,
                                                          java.util.concurrent.atomic.AtomicLong monoMs) {
        return new io.switchboard.clock.Clock() {
            @Override
            public long nowMs() {
                return wallMs.get();
            }

            @Override
            public long monotonicNs() {
                return monoMs.get() * 1_000_000L;
            }
        };
    }

    @Test
    void acknowledgementsAreSyncedWithinASecondInBatchModeTooWithNoMorePushesToCarryThem() {
        // BATCH syncs before answering an append; the ACK and FORGET records written after it waited for the next
        // stored push, a roll or the shutdown: after a power loss every message acknowledged since came again.
        java.util.concurrent.atomic.AtomicLong monoMs = new java.util.concurrent.atomic.AtomicLong(1_000);
        DiskStore s = DiskStore.open(new DiskStore.Settings(dir, DiskStore.Fsync.BATCH, 1_000, 64 * 1024, 1 << 30),
                manualClock(new java.util.concurrent.atomic.AtomicLong(StoreRig.START_MS), monoMs));
        s.recover((id, lastSeq, m) -> { });
        append(s, "a", 1, StoreRig.START_MS + 3_600_000, "one");
        assertEquals(1, s.stats().fsyncs(), "the append's own");
        s.acknowledged("a", 1);
        await(() -> s.waitingForWriter() == 0, "the ack written");
        monoMs.addAndGet(1_100);
        await(() -> s.stats().fsyncs() >= 2, () -> "the ack synced a second later: " + s.stats());
        s.close();
    }

    @Test
    void intervalSyncsGoOnWhenTheWallClockStepsBack() {
        java.util.concurrent.atomic.AtomicLong wallMs = new java.util.concurrent.atomic.AtomicLong(StoreRig.START_MS);
        java.util.concurrent.atomic.AtomicLong monoMs = new java.util.concurrent.atomic.AtomicLong(1_000);
        io.switchboard.clock.Clock clock = manualClock(wallMs, monoMs);
        DiskStore s = DiskStore.open(new DiskStore.Settings(dir, DiskStore.Fsync.INTERVAL, 50, 64 * 1024, 1 << 30),
                clock);
        s.recover((id, lastSeq, m) -> { });
        append(s, "a", 1, StoreRig.START_MS + 3_600_000, "one");
        monoMs.addAndGet(100);
        await(() -> s.stats().fsyncs() >= 1, "the first interval sync");
        wallMs.addAndGet(-3_600_000); // NTP steps the clock back an hour
        append(s, "a", 2, StoreRig.START_MS + 3_600_000, "two");
        monoMs.addAndGet(100);
        await(() -> s.stats().fsyncs() >= 2, () -> "a sync 100 ms later, not an hour: " + s.stats());
        s.close();
    }

    @Test
    void theBoundRefusesMoreAndAcknowledgementsMakeRoom() {
        StoreRig rig = new StoreRig(dir);
        int record = Records.messageBytes(1, 100);
        rig.maxBytes = 3L * record;
        DiskStore s = rig.open();
        assertFalse(s.full(100));
        for (int seq = 1; seq <= 3; seq++) {
            append(s, "a", seq, StoreRig.START_MS + 60_000, "x".repeat(100));
        }
        assertTrue(s.full(100), s.stats().toString());
        s.acknowledged("a", 2);
        await(() -> !s.full(100), "room after the acknowledgement");
        s.close();
    }

    @Test
    void aSecondStoreOnTheSameDirectoryIsRefusedWithTheOwnersPid() {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = rig.open();
        IllegalStateException e = assertThrows(IllegalStateException.class, rig::open);
        assertTrue(e.getMessage().contains("in use by another switchboard process (pid "
                + ProcessHandle.current().pid() + ")") && e.getMessage().contains("--data-dir"), e.getMessage());
        s.close();
        rig.open().close(); // released
    }

    @Test
    void theDefaultBoundCountsTheStoresOwnFilesAsFreeSoARestartDoesNotLowerIt() throws IOException {
        long free = 1L << 30;
        assertEquals(free / 4, DiskStore.defaultMaxBytes(dir, free));
        Files.write(dir.resolve("segment-0000000001.swblog"), new byte[4 << 20]);
        Files.write(dir.resolve("other.txt"), new byte[4 << 20]); // not the store's
        assertEquals((free + (4 << 20)) / 4, DiskStore.defaultMaxBytes(dir, free),
                "a quarter of the free space and of the store's own segment files");
        assertEquals(1L << 30, DiskStore.defaultMaxBytes(dir, -1), "1 GiB when the free space is unknown");
    }

    @Test
    void aDirectoryThatCannotBeCreatedIsOneLineNamingIt() throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new StoreRig(file.resolve("data")).open());
        assertTrue(e.getMessage().startsWith("cannot create the data directory " + file.resolve("data"))
                && e.getMessage().contains("--data-dir") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void anAppendBeforeRecoveryOrAfterCloseFailsAtOnce() throws Exception {
        StoreRig rig = new StoreRig(dir);
        DiskStore s = DiskStore.open(new DiskStore.Settings(dir, DiskStore.Fsync.BATCH, 50, 64 * 1024, 1 << 30),
                rig.clock);
        CompletableFuture<Throwable> early = new CompletableFuture<>();
        s.append("a", 1, StoreRig.START_MS + 1000, new byte[1], early::complete);
        assertTrue(early.get(1, TimeUnit.SECONDS).getMessage().contains("not recovered"));
        s.recover((id, lastSeq, m) -> { });
        s.close();
        CompletableFuture<Throwable> late = new CompletableFuture<>();
        s.append("a", 1, StoreRig.START_MS + 1000, new byte[1], late::complete);
        assertTrue(late.get(1, TimeUnit.SECONDS).getMessage().contains("closed"));
        assertEquals(2, s.stats().failures());
    }
}
