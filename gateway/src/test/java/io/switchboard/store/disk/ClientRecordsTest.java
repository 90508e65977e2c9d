package io.switchboard.store.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A client's record index gives back what a burst of waiting messages made it grow to, and keeps its order. */
class ClientRecordsTest {
    private final ClientRecords records = new ClientRecords("c".getBytes());
    private long droppedBytes;

    private void fill(long from, long to, long expiresAtMs) {
        for (long seq = from; seq <= to; seq++) {
            records.add(seq, expiresAtMs, (int) (seq % 7), 100);
        }
    }

    @Test
    void shouldShrinkOnceMostRecordsAreAcknowledged() {
        fill(1, 10_000, Long.MAX_VALUE);
        assertTrue(records.capacity() >= 10_000);
        assertEquals(9_990, records.dropUpTo(9_990, (segment, bytes) -> droppedBytes += bytes));
        assertEquals(999_000, droppedBytes);
        assertEquals(10, records.size());
        assertTrue(records.capacity() <= 64, "capacity " + records.capacity() + " for 10 records");
        for (int i = 0; i < 10; i++) {
            assertEquals(9_991 + i, records.seq(i));
            assertEquals((9_991 + i) % 7, records.segment(i));
            assertEquals(100, records.recordBytes(i));
        }
        assertEquals(5, records.indexOf(9_996));
        // It grows again as needed.
        fill(10_001, 10_100, Long.MAX_VALUE);
        assertEquals(110, records.size());
        assertEquals(10_100, records.seq(109));
    }

    @Test
    void shouldShrinkOnceMostRecordsExpired() {
        fill(1, 1_000, 5);
        fill(1_001, 1_003, Long.MAX_VALUE);
        assertEquals(1_000, records.dropExpired(10, (segment, bytes) -> { }));
        assertEquals(3, records.size());
        assertTrue(records.capacity() <= 16, "capacity " + records.capacity() + " for 3 records");
        assertEquals(1_001, records.seq(0));
        assertEquals(1_003, records.seq(2));
    }
}
