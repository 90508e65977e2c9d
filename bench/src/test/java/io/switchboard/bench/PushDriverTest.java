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

    @Test
    void aBroadcastRefusedOrFailingIsReportedAsNotDoneInsteadOfWaitedForOrThrown() throws Exception {
        HttpServer api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        api.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            byte[] body = "{\"error\":\"unauthorized\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        api.start();
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try {
            for (int port : new int[] {api.getAddress().getPort(), closedPort}) {
                CommandLine cl = CommandLines.rootWith(new BenchCommand());
                cl.parseArgs("bench", "--api", "http://127.0.0.1:" + port, "--broadcast", "-c", "10");
                BenchCommand bench = cl.getSubcommands().get("bench").getCommand();
                BenchRun.Plan plan = bench.plan();
                BenchStats stats = new BenchStats();
                StringWriter text = new StringWriter();
                PrintWriter out = new PrintWriter(text, true);
                PushDriver driver = new PushDriver(plan, stats, new BenchApi(plan, out), out, phase -> { });
                long t0 = System.nanoTime();
                assertEquals(java.util.List.of(-1L), driver.broadcasts(3), "one, not done: " + text);
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(PushDriver.BROADCAST_WAIT_S / 2),
                        "no arrival waited for");
                assertEquals(1L, stats.errors().get(port == closedPort ? "broadcast_failed" : "broadcast_refused"),
                        stats.errors().toString());
            }
        } finally {
            api.stop(0);
        }
    }

    @Test
    void badApiAddressesAreOneLineErrors() {
        for (String bad : new String[] {"localhost:8080", "127.0.0.1", "ftp://h/", "http://"}) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> BenchCommand.apiUri(bad), bad);
            assertTrue(e.getMessage().startsWith("--api '"), e.getMessage());
        }
        assertEquals("http://127.0.0.1:8080/", BenchCommand.apiUri("http://127.0.0.1:8080").toString());
    }

    @Test
    void pushLoadCountsOnlyWhatABatchAnswerSaysWasAccepted() throws Exception {
        String answer = "HTTP/1.1 200 OK\r\ncontent-length: 42\r\n\r\n{\"results\":[],\"accepted\":3,\"refused\":7}   ";
        String[] body = new String[1];
        assertEquals(200, PushLoadCommand.readResponse(new java.io.ByteArrayInputStream(
                answer.getBytes(java.nio.charset.StandardCharsets.US_ASCII)), body));
        assertEquals(3, PushLoadCommand.jsonCount(body[0], "accepted"));
        assertEquals(7, PushLoadCommand.jsonCount(body[0], "refused"));
        assertEquals(-1, PushLoadCommand.jsonCount(body[0], "stored"));
    }
}
