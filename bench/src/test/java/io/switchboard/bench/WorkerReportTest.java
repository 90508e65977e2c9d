package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The line a worker writes once a second, and how a parent folds several workers' lines into one set of stats. */
class WorkerReportTest {

    private static Histogram histogram(long... valuesUs) {
        Histogram h = new Histogram(3);
        for (long v : valuesUs) {
            h.recordValue(v);
        }
        return h;
    }

    private static BenchStats.Intervals pushes(long... valuesUs) {
        return new BenchStats.Intervals(new Histogram(3), histogram(valuesUs), new Histogram(3), new Histogram(3));
    }

    private static WorkerReport report(long established, long open, Map<String, Long> errors,
                                       BenchStats.Intervals intervals) {
        Map<String, Long> counters = new LinkedHashMap<>();
        counters.put("established", established);
        counters.put("open", open);
        return new WorkerReport("holding", counters, errors, intervals, true, false, 1_000L, 2_000L, 0);
    }

    @Test
    void shouldDecodeWhatItEncodesIncludingHistograms() {
        BenchStats s = new BenchStats();
        s.established.add(7);
        s.open.add(5);
        s.stormDropped.add(3);
        BenchStats.Intervals in = new BenchStats.Intervals(histogram(1_000, 2_000), histogram(150, 250, 90_000),
                new Histogram(3), histogram(1_500_000));
        WorkerReport r = new WorkerReport("storm", WorkerReport.counters(s), Map.of("connect timeout", 2L), in, true,
                true, 123L, 234L, 456L);

        WorkerReport back = WorkerReport.decode(r.encode());

        assertEquals("storm", back.phase());
        assertEquals(7L, back.counters().get("established"));
        assertEquals(5L, back.counters().get("open"));
        assertEquals(3L, back.counters().get("storm_dropped"));
        assertEquals(2L, back.errors().get("connect timeout"));
        assertEquals(true, back.ready());
        assertEquals(true, back.stormDone());
        assertEquals(123L, back.rampStartUs());
        assertEquals(234L, back.rampEndUs());
        assertEquals(456L, back.lastWelcomeUs());
        assertEquals(in.push(), back.intervals().push());
        assertEquals(in.handshake(), back.intervals().handshake());
        assertEquals(in.stormBack(), back.intervals().stormBack());
        assertEquals(0, back.intervals().broadcast().getTotalCount());
    }

    @Test
    void shouldMergeHistogramsOfSeveralWorkersAsIfOneProcessRecordedThemAll() {
        long[] worker1 = {100, 200, 300, 400, 50_000};
        long[] worker2 = {150, 250, 350, 900_000};
        BenchStats parent = new BenchStats();
        WorkerReport.Merger m1 = new WorkerReport.Merger();
        WorkerReport.Merger m2 = new WorkerReport.Merger();

        m1.apply(WorkerReport.decode(report(5, 5, Map.of(), pushes(worker1)).encode()), parent);
        m2.apply(WorkerReport.decode(report(4, 4, Map.of(), pushes(worker2)).encode()), parent);
        Histogram interval = parent.drainIntervals();

        Histogram all = histogram(100, 200, 300, 400, 50_000, 150, 250, 350, 900_000);
        assertEquals(all, interval);
        assertEquals(all, parent.pushTotal);
        assertEquals(all.getValueAtPercentile(99), parent.pushTotal.getValueAtPercentile(99));
        // The next drain holds only what arrived since.
        assertEquals(0, parent.drainIntervals().getTotalCount());
        assertEquals(9, parent.pushTotal.getTotalCount());
    }

    @Test
    void shouldAddCountersAndErrorsByTheirChangeSinceTheWorkersPreviousReport() {
        BenchStats parent = new BenchStats();
        WorkerReport.Merger m1 = new WorkerReport.Merger();
        WorkerReport.Merger m2 = new WorkerReport.Merger();

        m1.apply(report(100, 100, Map.of("connect timeout", 1L), pushes()), parent);
        m2.apply(report(50, 50, Map.of(), pushes()), parent);
        m1.apply(report(150, 140, Map.of("connect timeout", 3L), pushes()), parent); // cumulative, not increments
        m2.apply(report(60, 55, Map.of("connection refused", 2L), pushes()), parent);

        assertEquals(210, parent.established.sum());
        assertEquals(195, parent.open.sum());
        assertEquals(Map.of("connect timeout", 3L, "connection refused", 2L), parent.errors());
    }

    @Test
    void shouldStopCountingTheConnectionsOfAWorkerThatIsGone() {
        BenchStats parent = new BenchStats();
        WorkerReport.Merger m1 = new WorkerReport.Merger();
        WorkerReport.Merger m2 = new WorkerReport.Merger();
        m1.apply(report(100, 100, Map.of(), pushes()), parent);
        m2.apply(report(80, 80, Map.of(), pushes()), parent);

        m2.lost(parent);

        assertEquals(100, parent.open.sum());
        assertEquals(180, parent.established.sum());
    }

    @Test
    void shouldRefuseLinesThatAreNotWorkerReports() {
        assertThrows(IllegalArgumentException.class, () -> WorkerReport.decode("bench: hello"));
        assertThrows(IllegalArgumentException.class, () -> WorkerReport.decode("{\"phase\":\"x\"}"));
        assertThrows(IllegalArgumentException.class,
                () -> WorkerReport.decode("{\"counters\":{},\"push\":\"not base64!\"}"));
    }
}
