package io.switchboard.protocol.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class InflightTest {
    @Test
    void aMessagesPacketIdFollowsFromItsSeqSoASecondSendingHasTheSameId() {
        assertEquals(1, Inflight.packetIdOf(1));
        assertEquals(0xFFFF, Inflight.packetIdOf(0xFFFF));
        assertEquals(1, Inflight.packetIdOf(0x10000), "ids wrap after 65535, never 0");
        Inflight first = new Inflight();
        assertEquals(7, first.add(7));
        assertEquals(8, first.add(8));
        Inflight afterReconnect = new Inflight();
        assertEquals(8, afterReconnect.add(8), "the id it had on the earlier connection");
    }

    @Test
    void anIdStillInFlightIsNeverGivenTwice() {
        Inflight in = new Inflight();
        assertEquals(1, in.add(1));
        assertEquals(2, in.add(2));
        // 65,535 seqs after the first (messages between them not kept): its own id (1) is in flight, and so is 2.
        assertEquals(3, in.add(0x10000), "the next free id");
        assertTrue(in.acknowledge(2));
        assertEquals(2, in.add(0x10001), "its own id, free again");
        // Close to the first in flight, but its own id (3) was given to the shifted one: checked too.
        assertEquals(4, in.add(0x10002));
        assertTrue(in.acknowledge(4));
        assertTrue(in.acknowledge(1));
        assertEquals(0x10000, in.firstSeq());
        assertTrue(in.acknowledge(3));
        assertTrue(in.acknowledge(2));
        assertTrue(in.isEmpty());
        assertEquals(5, in.add(0x10004), "once empty, ids follow seqs again");
        assertFalse(in.contains(1));
    }

    @Test
    void aMessageAcknowledgedAheadOfAnEarlierOneNeverCountsThatOneAcknowledged() {
        Inflight in = new Inflight();
        in.add(5);
        in.add(6);
        in.add(7);
        assertTrue(in.acknowledge(6), "out of order, as a client acknowledging by hand may");
        assertEquals(5, in.firstSeq(), "5 is not acknowledged: the store keeps it, the next connection gets it");
        assertFalse(in.acknowledge(6), "a second PUBACK for it");
        assertFalse(in.contains(6), "its id is free again");
        assertTrue(in.acknowledge(5));
        assertEquals(7, in.firstSeq(), "6 went with 5");
        assertEquals(1, in.size());
        assertTrue(in.acknowledge(7));
        assertTrue(in.isEmpty());
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // the search for a free id never ended
    void everyIdTakenIsAnErrorNotAnEndlessSearch() {
        Inflight in = new Inflight();
        for (long seq = 1; seq <= 0xFFFF; seq++) {
            in.add(seq);
        }
        assertThrows(IllegalStateException.class, () -> in.add(0x10000));
    }
}
