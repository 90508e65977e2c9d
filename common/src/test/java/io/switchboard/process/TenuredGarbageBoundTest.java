package io.switchboard.process;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TenuredGarbageBoundTest {
    private static final long MB = 1L << 20;

    @Test
    void aSmallLiveHeapIsCollectedOncePast64MegabytesOfGarbage() {
        assertFalse(TenuredGarbageBound.due(30 * MB + 64 * MB, 30 * MB));
        assertTrue(TenuredGarbageBound.due(30 * MB + 64 * MB + 1, 30 * MB));
    }

    @Test
    void aLargeLiveHeapIsCollectedOnlyOnceTheGarbageIsAsLarge() {
        assertFalse(TenuredGarbageBound.due(1024 * MB, 512 * MB)); // 512 MB of garbage: not more than the live heap
        assertTrue(TenuredGarbageBound.due(1024 * MB + 1, 512 * MB));
    }

    @Test
    void lessUsedThanTheLastCollectionLeftIsNeverDue() {
        assertFalse(TenuredGarbageBound.due(10 * MB, 40 * MB));
    }
}
