package io.switchboard.store.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordsTest {
    @TempDir
    Path dir;

    /** Writes what the visitor sees as lines. */
    static final class Lines implements Records.Visitor {
        final List<String> seen = new ArrayList<>();

        @Override
        public void message(String clientId, long seq, long expiresAtMs, byte[] payload, int recordBytes) {
            seen.add("msg " + clientId + " " + seq + " " + expiresAtMs + " " + StoreRig.text(payload) + " "
                    + recordBytes);
        }

        @Override
        public void ack(String clientId, long seq) {
            seen.add("ack " + clientId + " " + seq);
        }

        @Override
        public void forget(String clientId) {
            seen.add("forget " + clientId);
        }
    }

    private static byte[] segment(byte[]... records) {
        int n = Records.MAGIC.length;
        for (byte[] r : records) {
            n += r.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n).put(Records.MAGIC);
        for (byte[] r : records) {
            b.put(r);
        }
        return b.array();
    }

    private static byte[] message(String id, long seq, long expires, String payload) {
        byte[] p = StoreRig.bytes(payload);
        ByteBuffer b = ByteBuffer.allocate(Records.messageBytes(Records.id(id).length, p.length));
        Records.putMessage(b, Records.id(id), seq, expires, p);
        assertFalse(b.hasRemaining(), "messageBytes is the exact size");
        return b.array();
    }

    private static byte[] ack(String id, long seq) {
        ByteBuffer b = ByteBuffer.allocate(Records.ackBytes(Records.id(id).length));
        Records.putAck(b, Records.id(id), seq);
        assertFalse(b.hasRemaining());
        return b.array();
    }

    private static byte[] forget(String id) {
        ByteBuffer b = ByteBuffer.allocate(Records.forgetBytes(Records.id(id).length));
        Records.putForget(b, Records.id(id));
        assertFalse(b.hasRemaining());
        return b.array();
    }

    private Lines read(byte[] file, SegmentReader[] keep) throws IOException {
        Path p = dir.resolve("segment-0000000001.swblog");
        Files.write(p, file);
        Lines lines = new Lines();
        try (SegmentReader r = SegmentReader.open(p)) {
            r.readAll(lines);
            keep[0] = r;
        }
        return lines;
    }

    @Test
    void everyKindOfRecordReadsBackAsWritten() throws IOException {
        byte[] m = message("device-7", 41, 1_700_000_060_000L, "hello");
        SegmentReader[] r = new SegmentReader[1];
        Lines lines = read(segment(m, ack("device-7", 41), forget("device-7"), message("é", 1, 2, "")), r);
        assertEquals(List.of("msg device-7 41 1700000060000 hello " + m.length, "ack device-7 41",
                "forget device-7", "msg é 1 2  " + Records.messageBytes(2, 0)), lines.seen);
        assertNull(r[0].problem());
        assertEquals(r[0].fileSize(), r[0].validEnd());
    }

    @Test
    void aFlippedBitAnywhereInARecordStopsTheReaderBeforeIt() throws IOException {
        byte[] first = message("a", 1, 9, "first");
        byte[] second = message("b", 2, 9, "second");
        byte[] clean = segment(first, second);
        int secondStart = Records.MAGIC.length + first.length;
        for (int i = secondStart; i < clean.length; i++) {
            byte[] damaged = clean.clone();
            damaged[i] ^= 0x10;
            SegmentReader[] r = new SegmentReader[1];
            Lines lines = read(damaged, r);
            assertEquals(1, lines.seen.size(), "byte " + i + ": only the first record");
            assertEquals(secondStart, r[0].validEnd(), "byte " + i);
            assertTrue(r[0].problem() != null, "byte " + i + " is reported");
        }
    }

    @Test
    void aRecordCutAtEveryByteReadsAsTheRecordsBeforeIt() throws IOException {
        byte[] first = message("a", 1, 9, "first");
        byte[] second = message("b", 2, 9, "second");
        byte[] clean = segment(first, second);
        int secondStart = Records.MAGIC.length + first.length;
        for (int cut = secondStart; cut < clean.length; cut++) {
            SegmentReader[] r = new SegmentReader[1];
            Lines lines = read(Arrays.copyOf(clean, cut), r);
            assertEquals(1, lines.seen.size(), "cut at " + cut);
            assertEquals(secondStart, r[0].validEnd(), "cut at " + cut);
            assertEquals(cut == secondStart, r[0].problem() == null, "cut at " + cut + ": " + r[0].problem());
        }
    }

    @Test
    void aZeroFilledTailIsNotARecord() throws IOException {
        byte[] first = message("a", 1, 9, "first");
        byte[] withZeros = Arrays.copyOf(segment(first), Records.MAGIC.length + first.length + 64);
        SegmentReader[] r = new SegmentReader[1];
        assertEquals(1, read(withZeros, r).seen.size());
        assertEquals(Records.MAGIC.length + first.length, r[0].validEnd());
        assertTrue(r[0].problem().contains("impossible record length 0"), r[0].problem());
    }

    @Test
    void aFileWithAnotherHeaderIsRefusedWithItsName() throws IOException {
        Path p = dir.resolve("segment-0000000001.swblog");
        Files.writeString(p, "something else entirely");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> SegmentReader.open(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("not a segment"),
                e.getMessage());
    }

    @Test
    void aRecordLargerThanTheReadBufferIsRead() throws IOException {
        String big = "x".repeat(1024 * 1024);
        SegmentReader[] r = new SegmentReader[1];
        Lines lines = read(segment(message("a", 1, 9, "small"), message("a", 2, 9, big), ack("a", 2)), r);
        assertEquals(3, lines.seen.size());
        assertTrue(lines.seen.get(1).contains(big));
        assertNull(r[0].problem());
    }
}
