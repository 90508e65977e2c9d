package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.options.CommandLines;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** How --workers divides connections, ids, rates and source addresses, and what each worker is told. */
class WorkerSplitTest {

    @Test
    void shouldUseOneProcessUpTo15000ConnectionsThenOnePer15000() {
        assertEquals(1, WorkerSplit.workers("auto", 1));
        assertEquals(1, WorkerSplit.workers("auto", 15_000));
        assertEquals(2, WorkerSplit.workers("auto", 15_001));
        assertEquals(2, WorkerSplit.workers("AUTO", 30_000));
        assertEquals(7, WorkerSplit.workers("auto", 100_000));
        assertEquals(67, WorkerSplit.workers("auto", 1_000_000));
        assertEquals(3, WorkerSplit.workers("3", 10));
    }

    @Test
    void shouldRefuseWorkerCountsWithAReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WorkerSplit.workers("many", 10))
                .getMessage().contains("'auto' or a number"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WorkerSplit.workers("0", 10))
                .getMessage().contains("1-1000"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WorkerSplit.workers("5", 4))
                .getMessage().contains("at least one connection"));
    }

    @Test
    void shouldSplitConnectionsEvenlyWithContiguousDisjointIds() {
        for (int[] c : new int[][] {{100_000, 7}, {400, 2}, {10, 3}, {7, 7}, {15_001, 2}}) {
            int total = c[0];
            int n = c[1];
            int sum = 0;
            int min = Integer.MAX_VALUE;
            int max = 0;
            for (int w = 0; w < n; w++) {
                int share = WorkerSplit.share(total, n, w);
                assertEquals(1000 + sum, WorkerSplit.idOffset(1000, total, n, w), "worker " + w + " of " + n);
                sum += share;
                min = Math.min(min, share);
                max = Math.max(max, share);
            }
            assertEquals(total, sum);
            assertTrue(max - min <= 1, "shares differ by at most one");
        }
        assertEquals(14_286, WorkerSplit.share(100_000, 7, 0));
        assertEquals(14_285, WorkerSplit.share(100_000, 7, 6));
        assertEquals(1, WorkerSplit.positiveShare(3, 7, 6));
    }

    @Test
    void shouldGiveEachWorkerItsOwnSliceOfSourcesWhenThereAreEnough() {
        List<InetAddress> sources = BenchArgs.sources("127.0.0.2-127.0.0.20"); // 19 addresses
        Set<InetAddress> seen = new HashSet<>();
        for (int w = 0; w < 7; w++) {
            List<InetAddress> mine = WorkerSplit.sources(sources, 7, w);
            assertTrue(mine.size() == 2 || mine.size() == 3, "worker " + w + " got " + mine);
            for (InetAddress a : mine) {
                assertTrue(seen.add(a), a + " given to two workers");
            }
        }
        assertEquals(new HashSet<>(sources), seen);
    }

    @Test
    void shouldShareAllSourcesWhenThereAreFewerThanWorkers() {
        List<InetAddress> sources = BenchArgs.sources("127.0.0.2-127.0.0.3");
        for (int w = 0; w < 3; w++) {
            assertEquals(sources, WorkerSplit.sources(sources, 3, w));
        }
        assertEquals(List.of(), WorkerSplit.sources(List.of(), 3, 1));
    }

    @Test
    void shouldWriteSourceSlicesAsShortRangesThatParseBack() {
        List<InetAddress> sources = new ArrayList<>(BenchArgs.sources("10.0.0.250-10.0.1.5,10.9.9.9,10.0.2.1-10.0.2.2"));
        String s = BenchArgs.formatSources(sources);
        assertEquals("10.0.0.250-10.0.1.5,10.9.9.9,10.0.2.1-10.0.2.2", s);
        assertEquals(sources, BenchArgs.sources(s));
        List<InetAddress> slash16 = BenchArgs.sources("10.1.0.0-10.1.255.255");
        assertEquals("10.1.0.0-10.1.127.255", BenchArgs.formatSources(WorkerSplit.sources(slash16, 2, 0)));
    }

    @Test
    void shouldGiveEachWorkerItsShareAndThePassThroughOptions() {
        List<String> args = WorkerSplit.childArgs(1, 2, 401, 10, 1000, 2000,
                BenchArgs.sources("127.0.0.2-127.0.0.5"), Duration.ofSeconds(90), List.of("--target", "h:1"));
        assertEquals(List.of("bench", "--as-worker", "2", "--connections", "200", "--id-offset", "211",
                "--rate", "1000", "--max-pending-connects", "2000", "--storm-wait", "90000ms", "--api", "none",
                "--source", "127.0.0.4-127.0.0.5", "--target", "h:1"), args);
    }

    @Test
    void shouldPassTheCommandLinesOwnOptionsToWorkersButNotTheSplitOrTheApiSide() {
        CommandLine cl = CommandLines.rootWith(new BenchCommand());
        cl.parseArgs("bench", "--target", "127.0.0.1:7001", "-c", "40000", "--hb", "5", "--protocol", "swb",
                "--push-rate", "10", "--push-concurrency", "300", "--workers", "auto", "--source", "127.0.0.2-127.0.0.9", "--storm",
                "--json", "/tmp/x.json", "--event-loops", "1");
        BenchCommand bench = cl.getSubcommands().get("bench").getCommand();

        List<String> pass = bench.workerPassThrough();

        assertEquals(List.of("--target", "127.0.0.1:7001", "--hb", "5", "--protocol", "swb", "--event-loops", "1"),
                pass);
        BenchRun.Plan plan = bench.plan();
        assertEquals(3, plan.workers());
        assertEquals(pass, plan.workerArgs());
        assertTrue(plan.storm());
        assertFalse(plan.isWorker());
        assertEquals(300, plan.pushConcurrency());
    }

    @Test
    void shouldTellWorkersToSubscribeToThePeersBroadcastChannelWhenTheParentTimesABroadcastThroughAPeer() {
        CommandLine cl = CommandLines.rootWith(new BenchCommand());
        cl.parseArgs("bench", "--protocol", "redis", "--publish-via", "redis", "--api", "none", "--broadcast",
                "-c", "40000");
        BenchCommand bench = cl.getSubcommands().get("bench").getCommand();

        BenchRun.Plan plan = bench.plan();

        assertEquals(List.of("--protocol", "redis", "--subscribe-broadcast"), plan.workerArgs());
        assertTrue(plan.broadcast());
        CommandLine worker = CommandLines.rootWith(new BenchCommand());
        worker.parseArgs("bench", "--as-worker", "1", "--protocol", "redis", "--subscribe-broadcast", "-c", "100");
        BenchCommand child = worker.getSubcommands().get("bench").getCommand();
        assertFalse(child.plan().broadcast(), "the parent times the broadcast; its workers only subscribe");
        assertTrue(child.subscribeBroadcast);
    }

    @Test
    void shouldPassAFlagToWorkersWithoutAValueSoTheyCanParseIt() {
        CommandLine cl = CommandLines.rootWith(new BenchCommand());
        cl.parseArgs("bench", "--protocol", "raw", "--echo-check", "--hb", "5", "-c", "40000");
        BenchCommand bench = cl.getSubcommands().get("bench").getCommand();

        List<String> pass = bench.workerPassThrough();

        assertEquals(List.of("--protocol", "raw", "--echo-check", "--hb", "5"), pass);
        List<String> child = new java.util.ArrayList<>(List.of("bench"));
        child.addAll(pass);
        assertEquals(0, CommandLines.rootWith(new BenchCommand()).parseArgs(child.toArray(new String[0])).errors().size(),
                "a worker parses what it is given");
    }
}
