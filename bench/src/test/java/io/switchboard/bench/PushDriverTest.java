package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.switchboard.options.CommandLines;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The pushes the bench keeps in flight through the API are bounded by --push-concurrency, and reach it. */
@Timeout(60)
class PushDriverTest {
    @Test
    void shouldKeepAtMostPushConcurrencyRequestsInFlightAndUseThemAll() throws Exception {
        AtomicInteger open = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        HttpServer api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 100);
        java.util.concurrent.ExecutorService handlers = Executors.newCachedThreadPool();
        api.setExecutor(handlers);
        api.createContext("/", exchange -> {
            most.accumulateAndGet(open.incrementAndGet(), Math::max);
            try {
                release.await(30, TimeUnit.SECONDS); // answers held back: the bench may only open more requests
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            open.decrementAndGet();
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        api.start();
        try {
            CommandLine cl = CommandLines.rootWith(new BenchCommand());
            cl.parseArgs("bench", "--api", "http://127.0.0.1:" + api.getAddress().getPort(), "--push-rate", "200",
                    "--push-concurrency", "5", "--push-warmup", "0s", "-c", "10");
            BenchCommand bench = cl.getSubcommands().get("bench").getCommand();
            BenchRun.Plan plan = bench.plan();
            BenchStats stats = new BenchStats();
            PrintWriter out = new PrintWriter(new StringWriter(), true);
            PushDriver driver = new PushDriver(plan, stats, new BenchApi(plan, out), out, phase -> { });
            Thread pushing = new Thread(() -> driver.push(TimeUnit.MILLISECONDS.toNanos(300)));
            pushing.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (open.get() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Thread.sleep(300); // the driver would open more now if it could (60 pushes were due by now)
            assertEquals(5, open.get(), "as many requests in flight as --push-concurrency allows");
            release.countDown();
            pushing.join(TimeUnit.SECONDS.toMillis(30));
            assertEquals(5, most.get(), "never more than --push-concurrency in flight");
            assertTrue(stats.pushesSent.sum() >= 50, "the rest were sent once answers came: " + stats.pushesSent.sum());
            assertEquals(0, stats.pushesFailed.sum());
            assertEquals(stats.pushesSent.sum(), stats.pushesSentMeasured.sum(),
                    "no warm-up: every push sent is one to be received or failed (pushes_not_received counts the rest)");
        } finally {
            release.countDown();
            api.stop(0);
            handlers.shutdownNow();
        }
    }

    @Test
    void shouldRefuseAPushConcurrencyOfZero() {
        CommandLine cl = CommandLines.rootWith(new BenchCommand());
        cl.parseArgs("bench", "--push-concurrency", "0");
        BenchCommand bench = cl.getSubcommands().get("bench").getCommand();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                bench::plan);
        assertEquals("--push-concurrency must be 1 to 10000, not 0", e.getMessage());
    }
}
