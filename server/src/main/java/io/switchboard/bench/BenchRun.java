package io.switchboard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.transport.Transport;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * One bench run: baseline readings, a paced connect ramp, a hold with optional pushes and a broadcast, readings
 * of the server's cost, then a report. Runs on the calling thread; the clients live on their own event loops.
 */
final class BenchRun {
    /** What to run; filled from the command line. */
    record Plan(List<InetSocketAddress> targets, List<java.net.InetAddress> sources, int connections, int rate,
                Duration hold, String idPrefix, int idOffset, int hbSec, Transport transport, int eventLoops,
                URI api, String apiToken, int pushRate, Duration pushDuration, Duration pushWarmup, boolean broadcast,
                List<Long> serverPids, Duration connectTimeout, int maxPendingConnects, Path json) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Plan plan;
    private final PrintWriter out;
    private final BenchStats stats = new BenchStats();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final long startNs = System.nanoTime();
    private final ObjectNode report = JSON.createObjectNode();

    BenchRun(Plan plan, PrintWriter out) {
        this.plan = plan;
        this.out = out;
    }

    int run() throws Exception {
        EventLoopGroup group = plan.transport().newGroup(plan.eventLoops(), new DefaultThreadFactory("bench", true));
        Map<EventLoop, BenchLoop> loops = new IdentityHashMap<>();
        for (EventExecutor e : group) {
            loops.put((EventLoop) e, new BenchLoop((EventLoop) e));
        }
        try {
            ServerReading before = readServer(true);
            long slabBefore = slabBytes();
            report.set("baseline", before.toJson());

            long rampStart = System.nanoTime();
            ramp(group, loops);
            double rampSec = (System.nanoTime() - rampStart) / 1e9;
            long established = stats.established.sum();
            double handshakeSec = (stats.lastWelcomeNs.get() - rampStart) / 1e9;
            double handshakeRate = established / Math.max(handshakeSec, 1e-3);
            progress("ramp done");

            ServerReading after = readServer(true);
            long slabAfter = slabBytes();
            report.set("loaded", after.toJson());

            long holdEnd = System.nanoTime() + plan.hold().toNanos();
            if (plan.pushRate() > 0 && plan.api() != null) {
                push(Math.min(plan.pushDuration().toNanos(), Math.max(0, holdEnd - System.nanoTime())));
            }
            long broadcastMs = -1;
            if (plan.broadcast() && plan.api() != null) {
                broadcastMs = broadcast();
            }
            while (System.nanoTime() < holdEnd) {
                sleepUntilNextSecond();
                progress("holding");
            }
            stats.drainIntervals();
            ServerReading end = readServer(false);

            printReport(established, rampSec, handshakeRate, before, after, end, slabBefore, slabAfter, broadcastMs);
            if (plan.json() != null) {
                Files.writeString(plan.json(), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
                out.println("bench: wrote " + plan.json());
            }
            out.flush();
            return established >= plan.connections() ? 0 : 1;
        } finally {
            for (BenchLoop l : loops.values()) {
                l.loop().execute(l::closeAll);
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    // ---- connect ramp

    private void ramp(EventLoopGroup group, Map<EventLoop, BenchLoop> loops) throws InterruptedException {
        Semaphore pending = new Semaphore(plan.maxPendingConnects());
        Bootstrap b = new Bootstrap().group(group).channel(plan.transport().socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) plan.connectTimeout().toMillis());
        if (plan.transport() == Transport.EPOLL && !plan.sources().isEmpty()) {
            b.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
        }
        long intervalNs = 1_000_000_000L / Math.max(1, plan.rate());
        long t0 = System.nanoTime();
        long nextProgress = t0 + 1_000_000_000L;
        for (int i = 0; i < plan.connections(); i++) {
            long due = t0 + i * intervalNs;
            long now;
            while ((now = System.nanoTime()) < due) {
                LockSupport.parkNanos(Math.min(due - now, 1_000_000));
            }
            if (now >= nextProgress) {
                progress("connecting");
                nextProgress += 1_000_000_000L;
            }
            pending.acquire();
            InetSocketAddress target = plan.targets().get(i % plan.targets().size());
            String id = plan.idPrefix() + (plan.idOffset() + i);
            long connectStart = System.nanoTime();
            stats.attempted.increment();
            Bootstrap cb = b.clone().handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new SwbBenchConnection(stats, loops.get(ch.eventLoop()), id, plan.hbSec(),
                            connectStart));
                }
            });
            ChannelFuture f = plan.sources().isEmpty() ? cb.connect(target)
                    : cb.connect(target, new InetSocketAddress(plan.sources().get(i % plan.sources().size()), 0));
            f.addListener(done -> {
                pending.release();
                if (!done.isSuccess()) {
                    stats.error(classify(done.cause()));
                }
            });
        }
        // Wait for handshakes to finish: until all are in, or no progress for 10 s.
        long lastCount = -1;
        long lastChange = System.nanoTime();
        while (stats.established.sum() + stats.errorCount() < plan.connections()) {
            sleepUntilNextSecond();
            progress("handshaking");
            long n = stats.established.sum() + stats.errorCount();
            if (n != lastCount) {
                lastCount = n;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange > TimeUnit.SECONDS.toNanos(10)) {
                out.println("bench: no progress for 10 s; continuing with " + stats.established.sum() + " clients");
                break;
            }
        }
    }

    static String classify(Throwable t) {
        String m = String.valueOf(t.getMessage());
        if (m.contains("Cannot assign requested address") || m.contains("EADDRNOTAVAIL")) {
            return "EADDRNOTAVAIL: out of source ports, add source addresses with --source";
        }
        if (m.contains("Too many open files") || m.contains("EMFILE")) {
            return "EMFILE: out of file descriptors (see 'switchboard doctor --role client')";
        }
        if (m.contains("Connection refused")) {
            return "connection refused";
        }
        if (t instanceof io.netty.channel.ConnectTimeoutException) {
            return "connect timeout";
        }
        return "connect: " + SwbBenchConnection.shortMessage(t);
    }

    // ---- pushes and broadcast

    /** API requests in flight at most: keeps the bench's HTTP connections (and files) bounded. */
    static final int MAX_PUSHES_IN_FLIGHT = 64;

    private void push(long durationNs) {
        Semaphore inFlight = new Semaphore(MAX_PUSHES_IN_FLIGHT);
        int rate = plan.pushRate();
        long intervalNs = 1_000_000_000L / rate;
        long warmupNs = Math.min(plan.pushWarmup().toNanos(), durationNs / 2);
        long count = (durationNs + warmupNs) / intervalNs;
        // Warm both clocks up (class loading, first calls) before pairing them, so intended times are not skewed.
        for (int i = 0; i < 1000; i++) {
            EpochClock.micros();
            System.nanoTime();
        }
        long t0Micros = EpochClock.micros();
        long t0 = System.nanoTime();
        long nextProgress = t0 + 1_000_000_000L;
        int n = Math.max(1, plan.connections());
        for (long i = 0; i < count; i++) {
            long due = t0 + i * intervalNs;
            long now;
            while ((now = System.nanoTime()) < due) {
                LockSupport.parkNanos(Math.min(due - now, 200_000));
            }
            if (now >= nextProgress) {
                progress(i * intervalNs < warmupNs ? "warming up" : "pushing");
                nextProgress += 1_000_000_000L;
            }
            // The intended send time goes in the payload: a late send counts against latency (no coordinated
            // omission). Warm-up pushes are marked 'W' and not recorded.
            long intendedMicros = t0Micros + (i * intervalNs) / 1000;
            char kind = i * intervalNs < warmupNs ? 'W' : 'P';
            String id = plan.idPrefix() + (plan.idOffset() + ThreadLocalRandom.current().nextInt(n));
            HttpRequest req = apiRequest("/v1/clients/" + id + "/messages")
                    .POST(HttpRequest.BodyPublishers.ofString(kind + Long.toString(intendedMicros))).build();
            // Waiting here delays this and later sends; their latency still counts from the intended time.
            inFlight.acquireUninterruptibly();
            stats.pushesSent.increment();
            http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((res, err) -> {
                inFlight.release();
                if (err != null || res.statusCode() != 200) {
                    stats.pushesFailed.increment();
                    stats.error(err != null ? "push: " + SwbBenchConnection.shortMessage(err)
                            : "push: HTTP " + res.statusCode());
                }
            });
        }
        // Let the last pushes arrive.
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < settle) {
            LockSupport.parkNanos(50_000_000);
        }
        progress("pushed");
    }

    /** Sends one broadcast and waits until every connected client got it (or 60 s); returns ms to the last one. */
    private long broadcast() throws IOException, InterruptedException {
        long target = stats.open.sum();
        long sentMicros = EpochClock.micros();
        long t0 = System.nanoTime();
        HttpResponse<String> res = http.send(apiRequest("/v1/broadcast")
                .POST(HttpRequest.BodyPublishers.ofString("B" + sentMicros)).build(), HttpResponse.BodyHandlers.ofString());
        long apiMs = (System.nanoTime() - t0) / 1_000_000;
        long deadline = t0 + TimeUnit.SECONDS.toNanos(60);
        long lastMs = -1;
        while (System.nanoTime() < deadline) {
            if (stats.broadcastReceived.sum() >= target) {
                lastMs = (System.nanoTime() - t0) / 1_000_000;
                break;
            }
            LockSupport.parkNanos(200_000);
        }
        stats.drainIntervals();
        long maxUs = stats.broadcastTotal.getMaxValue();
        out.printf("bench: broadcast answered %s in %d ms; %d/%d clients received it; last arrival %.1f ms after "
                        + "the request%n", res.body().trim(), apiMs, stats.broadcastReceived.sum(), target,
                maxUs / 1000.0);
        return lastMs < 0 ? -1 : Math.round(maxUs / 1000.0);
    }

    private HttpRequest.Builder apiRequest(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(plan.api().resolve(path)).timeout(Duration.ofSeconds(30));
        if (plan.apiToken() != null) {
            b.header("Authorization", "Bearer " + plan.apiToken());
        }
        return b;
    }

    // ---- server cost readings

    record ServerReading(long heapBytes, long rssBytes, long sessions, long pidRssBytes) {
        ObjectNode toJson() {
            return JSON.createObjectNode().put("heap_used_bytes", heapBytes).put("rss_bytes", rssBytes)
                    .put("sessions_online", sessions).put("server_pids_rss_bytes", pidRssBytes);
        }
    }

    private ServerReading readServer(boolean gc) {
        long heap = -1;
        long rss = -1;
        long sessions = -1;
        if (plan.api() != null) {
            try {
                HttpResponse<String> res = http.send(apiRequest("/v1/stats" + (gc ? "?gc=true" : "")).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode n = JSON.readTree(res.body());
                heap = n.path("memory").path("heap_used_bytes").asLong(-1);
                rss = n.path("memory").path("rss_bytes").asLong(-1);
                sessions = n.path("sessions_online").asLong(-1);
            } catch (IOException e) {
                out.println("bench: could not read " + plan.api() + "/v1/stats: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long pidRss = 0;
        for (long pid : plan.serverPids()) {
            pidRss += procRss(pid);
        }
        return new ServerReading(heap, rss, sessions, plan.serverPids().isEmpty() ? -1 : pidRss);
    }

    static long procRss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    static long slabBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("Slab:")) {
                    return Long.parseLong(line.substring(5).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    // ---- output

    private void progress(String phase) {
        Histogram interval = stats.drainIntervals();
        double secs = (System.nanoTime() - startNs) / 1e9;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("[%6.1fs] %-11s established %d/%d open %d", secs, phase, stats.established.sum(),
                plan.connections(), stats.open.sum()));
        sb.append(" msgs ").append(stats.messages.sum()).append(" pings ").append(stats.pings.sum());
        if (interval.getTotalCount() > 0) {
            sb.append(String.format(" | push %d/s p99 %.2f ms", interval.getTotalCount(),
                    interval.getValueAtPercentile(99) / 1000.0));
        }
        long errs = stats.errorCount();
        if (errs > 0) {
            sb.append(" | errors ").append(errs).append(' ').append(stats.errors());
        }
        out.println(sb);
        out.flush();
    }

    private void printReport(long established, double rampSec, double handshakeRate, ServerReading before,
                             ServerReading after, ServerReading end, long slabBefore, long slabAfter,
                             long broadcastMs) {
        long clients = Math.max(1, established);
        out.println();
        out.println("== switchboard bench report");
        row("connections established", established + " / " + plan.connections());
        row("ramp", String.format("%.1f s at --rate %d/s", rampSec, plan.rate()));
        row("handshake rate (first connect to last WELCOME)", String.format("%.0f /s", handshakeRate));
        row("handshake latency p50 / p99", ms(stats.handshakeTotal, 50) + " / " + ms(stats.handshakeTotal, 99));
        report.put("connections_target", plan.connections()).put("connections_established", established)
                .put("ramp_s", rampSec).put("handshakes_per_s", handshakeRate);
        if (before.heapBytes() >= 0 && after.heapBytes() >= 0) {
            long sessions = Math.max(1, after.sessions() - Math.max(0, before.sessions()));
            long heapPer = (after.heapBytes() - before.heapBytes()) / sessions;
            long rssPer = (after.rssBytes() - before.rssBytes()) / sessions;
            row("server heap per client (after full GC)", heapPer + " B");
            row("server RSS per client", rssPer + " B");
            report.put("server_heap_per_client_bytes", heapPer).put("server_rss_per_client_bytes", rssPer);
        }
        if (before.pidRssBytes() >= 0) {
            long per = (after.pidRssBytes() - before.pidRssBytes()) / clients;
            row("server processes RSS per client", per + " B");
            report.put("server_pids_rss_per_client_bytes", per);
        }
        if (slabBefore > 0 && slabAfter > 0) {
            long per = (slabAfter - slabBefore) / clients;
            row("kernel slab per connection (both ends)", per + " B");
            report.put("kernel_slab_per_connection_both_ends_bytes", per);
        }
        if (stats.pushTotal.getTotalCount() > 0) {
            Histogram h = stats.pushTotal;
            row("pushes sent / failed / measured (after warm-up)", stats.pushesSent.sum() + " / "
                    + stats.pushesFailed.sum() + " / " + h.getTotalCount());
            row("push latency p50 / p90 / p99 / p99.9 / max", ms(h, 50) + " / " + ms(h, 90) + " / " + ms(h, 99)
                    + " / " + ms(h, 99.9) + " / " + String.format("%.2f ms", h.getMaxValue() / 1000.0));
            report.put("push_rate", plan.pushRate()).put("pushes_sent", stats.pushesSent.sum())
                    .put("pushes_failed", stats.pushesFailed.sum()).put("pushes_received", h.getTotalCount());
            ObjectNode p = report.putObject("push_latency_ms");
            for (double q : new double[] {50, 90, 99, 99.9}) {
                p.put("p" + q, h.getValueAtPercentile(q) / 1000.0);
            }
            p.put("max", h.getMaxValue() / 1000.0);
        }
        if (plan.broadcast()) {
            row("broadcast to all, last arrival", broadcastMs < 0 ? "not all arrived within 60 s"
                    : broadcastMs + " ms (" + stats.broadcastReceived.sum() + " clients)");
            report.put("broadcast_last_arrival_ms", broadcastMs).put("broadcast_received",
                    stats.broadcastReceived.sum());
        }
        row("messages received / pings sent", stats.messages.sum() + " / " + stats.pings.sum());
        row("still open at end", String.valueOf(stats.open.sum()));
        row("errors", stats.errors().isEmpty() ? "none" : stats.errors().toString());
        report.put("messages_received", stats.messages.sum()).put("pings_sent", stats.pings.sum())
                .put("open_at_end", stats.open.sum());
        report.set("errors", JSON.valueToTree(stats.errors()));
        report.set("end", end.toJson());
    }

    private void row(String name, String value) {
        out.printf("%-44s %s%n", name, value);
    }

    private static String ms(Histogram h, double percentile) {
        return String.format("%.2f ms", h.getValueAtPercentile(percentile) / 1000.0);
    }

    private static void sleepUntilNextSecond() {
        LockSupport.parkNanos(1_000_000_000L);
    }
}
