package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a parent knows of its newest worker while that one's JVM starts: the ramp's stall clock depends on it. */
class WorkerFleetTest {
    @Test
    void theTimeWorkersRampIsTheUnionOfTheirRampsWithoutTheGapsBetween() {
        // Two workers of 1 s each with 3 s between them (the second one's JVM starting): 2 s of ramping, not 5.
        assertEquals(2.0, WorkerFleet.unionSec(List.of(new long[] {4_000_000, 5_000_000}, new long[] {0, 1_000_000})),
                1e-9);
        assertEquals(3.0, WorkerFleet.unionSec(List.of(new long[] {0, 2_000_000}, new long[] {1_000_000, 3_000_000})),
                1e-9, "overlapping ramps count once");
        assertEquals(0.0, WorkerFleet.unionSec(List.of()), 1e-9);
    }

    @Test
    void shouldCountTheNewestWorkerSilentUntilItsFirstReport() throws Exception {
        BenchStats stats = new BenchStats();
        try (WorkerFleet fleet = WorkerFleet.create(stats, new PrintWriter(new StringWriter(), true))) {
            assertEquals(-1, fleet.newestSilentNs(), "no worker: none silent");
            // A stand-in worker: silent for a second (a JVM starting), then one report, then alive and quiet.
            fleet.launch(List.of("sh", "-c"), List.of("sleep 1; echo '{\"phase\":\"connecting\",\"counters\":"
                    + "{\"attempted\":3}}'; sleep 30"));
            assertTrue(fleet.newestSilentNs() >= 0, "started, nothing heard yet");
            assertTrue(fleet.newestPid() > 0);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (fleet.newestSilentNs() >= 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(-1, fleet.newestSilentNs(), "heard once it reported");
            assertEquals(3, stats.attempted.sum(), "and its report counted");
        }
    }
}
