package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StallSignsTest {
    @Test
    void shouldNameEachSignAStallLeaves() {
        StallSigns signs = new StallSigns(45.2, 2, 120, 18_000, Map.of(BenchClients.OUT_OF_PORTS, 7L,
                BenchClients.OUT_OF_FILES, 3L, "connection refused", 5L));
        String causes = signs.causes();
        assertTrue(causes.startsWith("CPU: load average 45.2 on 2 cores"), causes);
        assertTrue(causes.contains("accept queue: 120 connections dropped"), causes);
        assertTrue(causes.contains("ports: 7 connects"), causes);
        assertTrue(causes.contains("files: 3 connects"), causes);
        assertTrue(causes.contains("18000 connections open but not welcomed"), causes);
    }

    @Test
    void shouldSaySoWhenNoSignShows() {
        StallSigns calm = new StallSigns(7.9, 2, 0, 0, Map.of("connection refused", 5L));
        assertEquals("no sign of a busy CPU, a full accept queue, or a lack of ports or files", calm.causes());
        StallSigns unknown = new StallSigns(-1, 2, -1, 0, Map.of());
        assertEquals(calm.causes(), unknown.causes(), "unreadable readings are no sign");
    }

    @Test
    void shouldReadTheOneMinuteLoadAverage(@TempDir Path dir) throws Exception {
        Path loadavg = Files.writeString(dir.resolve("loadavg"), "45.54 70.45 66.27 1/86 30224\n");
        assertEquals(45.54, StallSigns.loadAverage(loadavg));
        assertEquals(-1, StallSigns.loadAverage(dir.resolve("missing")));
    }
}
