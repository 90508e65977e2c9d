package io.switchboard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.bench.protocol.BenchConnection;
import io.switchboard.bench.protocol.BenchProtocol;
import io.switchboard.process.ProcFiles;
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
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
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
                List<Long> serverPids, Duration connectTimeout, int maxPendingConnects, Path json,
                BenchProtocol protocol, int workers, List<String> workerArgs, int asWorker, boolean storm,
                Duration stormWait, Path html, Duration rampUp) {
        /** This process is worker {@code asWorker} of a --workers parent: it reports on stdout, obeys stdin. */
        boolean isWorker() {
            return asWorker > 0;
        }
    }

    /**
     * One second of the run's timeline: established (cumulative handshakes), open, errors (cumulative), pushes
     * received per second and their p99 (NaN when none arrived).
     */
    record Sample(double elapsedSec, long established, long open, long errors, double pushesPerSec,
                  double pushP99Ms) {
    }

    /** What a --storm measured: return times are from the drop; -1 when that share never came back. */
    record StormResult(long dropped, long back, long to99PercentUs, long toAllUs, ListenCounters listen,
                       ListenCounters peakPerSecond, double waitedSec) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Plan plan;
    private final PrintWriter out;
    private final BenchStats stats = new BenchStats();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final long startNs = System.nanoTime();
    private final ObjectNode report = JSON.createObjectNode();
    private final List<Sample> timeline = new ArrayList<>();
    private final List<HtmlReport.Row> rows = new ArrayList<>();
    private long lastProgressNs = startNs;

    // The in-process clients (a --workers parent has none: its workers hold them).
    private EventLoopGroup group;
    private Map<EventLoop, BenchLoop> loops;
    private Bootstrap bootstrap;
    /** Client i's first connection, set by the ramp on the calling thread: what a storm drops. */
    private Channel[] channels;
    /** After a storm drop, lost connections come back until the run ends. */
    private volatile boolean reconnecting;

    private WorkerFleet fleet;
    // In a worker process: the parent's commands, and what the reports say.
    private WorkerControl control;
    private boolean workerReady;
    private boolean workerStormDone;
    private long rampStartUs;
    private long rampEndUs;
    /** Handshakes at the end of the ramp; later ones are reconnections. -1 during the ramp. */
    private long rampEstablished = -1;

    private ListenCounters rampListen = ListenCounters.UNKNOWN;
    private StormResult stormResult;
    private Histogram rampHandshakes;

    BenchRun(Plan plan, PrintWriter out) {
        this.plan = plan;
        this.out = out;
    }

    int run() throws Exception {
        if (plan.isWorker()) {
            return runWorker();
        }
        boolean fanOut = plan.workers() > 1;
        if (!fanOut) {
            startClients();
        }
        try {
            ServerReading before = readServer(true);
            long slabBefore = slabBytes();
            report.set("baseline", before.toJson());

            ListenCounters listenBefore = ListenCounters.read();
            long rampStart = System.nanoTime();
            if (fanOut) {
                rampWorkers();
                // The workers' JVM start-up is not part of the ramp: it begins with their first connect.
                long workersStart = fleet.earliestRampStartNs();
                rampStart = workersStart != 0 ? workersStart : rampStart;
            } else {
                ramp();
            }
            long rampEnd = System.nanoTime();
            if (fanOut && fleet.latestRampEndNs() != 0) {
                rampEnd = fleet.latestRampEndNs();
            }
            double rampSec = (rampEnd - rampStart) / 1e9;
            long established = stats.established.sum();
            rampEstablished = established;
            double handshakeSec = (stats.lastWelcomeNs.get() - rampStart) / 1e9;
            double handshakeRate = established / Math.max(handshakeSec, 1e-3);
            rampListen = ListenCounters.read().minus(listenBefore);
            progress("ramp done");
            // Later handshakes (storm reconnections) must not blur the ramp's.
            rampHandshakes = stats.handshakeTotal.copy();

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
            if (plan.storm()) {
                storm();
            }
            while (System.nanoTime() < holdEnd) {
                sleepUntilNextSecond();
                progress("holding");
            }
            stats.drainIntervals();
            ServerReading end = readServer(false);

            printReport(established, rampSec, handshakeRate, before, after, end, slabBefore, slabAfter, broadcastMs);
            if (plan.json() != null) {
                report.set("timeline", timelineJson());
                Files.writeString(plan.json(), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
                out.println("bench: wrote " + plan.json());
            }
            if (plan.html() != null) {
                HtmlReport.write(plan.html(), "switchboard bench: " + plan.connections() + " connections", timeline,
                        stats.pushTotal, rows);
                out.println("bench: wrote " + plan.html());
            }
            out.flush();
            return established >= plan.connections() ? 0 : 1;
        } finally {
            if (fleet != null) {
                fleet.stop();
            }
            stopClients();
        }
    }

    /** Creates the client event loops and the bootstrap every connection is cloned from. */
    private void startClients() {
        group = plan.transport().newGroup(plan.eventLoops(), new DefaultThreadFactory("bench", true));
        loops = new IdentityHashMap<>();
        for (EventExecutor e : group) {
            loops.put((EventLoop) e, new BenchLoop((EventLoop) e));
        }
        bootstrap = new Bootstrap().group(group).channel(plan.transport().socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) plan.connectTimeout().toMillis());
        if (plan.transport() == Transport.EPOLL && !plan.sources().isEmpty()) {
            bootstrap.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
        }
        channels = new Channel[plan.connections()];
    }

    /** Closes every client connection (no storm reconnects any more) and stops the event loops. */
    private void stopClients() {
        reconnecting = false;
        if (group == null) {
            return;
        }
        for (BenchLoop l : loops.values()) {
            l.loop().execute(l::closeAll);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    // ---- worker processes (--workers)

    /** Starts the worker processes and waits until each has finished its ramp (or exited, or stalled 30 s). */
    private void rampWorkers() throws IOException {
        int n = plan.workers();
        List<List<String>> args = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            args.add(WorkerSplit.childArgs(w, n, plan.connections(), plan.idOffset(), plan.rate(),
                    plan.maxPendingConnects(), plan.sources(), plan.stormWait(), plan.workerArgs()));
        }
        fleet = WorkerFleet.start(WorkerFleet.javaLauncher(), args, stats, out);
        out.printf("bench: started %d worker processes (pids %s), %d connections each at most, %s%n", n,
                fleet.pids(), WorkerSplit.share(plan.connections(), n, 0),
                plan.sources().size() >= n ? "each with its own slice of the " + plan.sources().size()
                        + " source addresses" : plan.sources().isEmpty() ? "default source address"
                        : "sharing the " + plan.sources().size() + " source addresses");
        out.flush();
        long lastCount = -1;
        long lastChange = System.nanoTime();
        while (!fleet.allReady()) {
            sleepUntilNextSecond();
            progress(stats.attempted.sum() < plan.connections() ? "connecting" : "handshaking");
            if (fleet.alive() == 0) {
                out.println("bench: every worker exited before its ramp was over");
                break;
            }
            long count = stats.attempted.sum() + stats.established.sum() + stats.errorCount();
            if (count != lastCount) {
                lastCount = count;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange > TimeUnit.SECONDS.toNanos(WORKER_STALL_SEC)) {
                out.println("bench: the workers made no progress for " + WORKER_STALL_SEC + " s; continuing with "
                        + stats.established.sum() + " clients");
                break;
            }
        }
    }

    /** How long a parent waits for its workers' ramp to move before it goes on without them. */
    static final int WORKER_STALL_SEC = 30;

    /**
     * The run of a worker process: ramp, then hold, reporting once a second on stdout, until the parent says
     * {@code stop} (or is gone); a {@code storm} command drops and reconnects this worker's clients.
     */
    private int runWorker() throws Exception {
        control = WorkerControl.start(System.in);
        startClients();
        try {
            rampStartUs = EpochClock.micros();
            ramp();
            rampEndUs = EpochClock.micros();
            workerReady = true;
            progress("ready");
            long nextReport = System.nanoTime() + 1_000_000_000L;
            while (!control.stopRequested()) {
                if (control.takeStorm()) {
                    long t0 = System.nanoTime();
                    long established0 = stats.established.sum();
                    StormTracker tracker = new StormTracker(stats, stats.established::sum, dropAll(), established0,
                            t0);
                    trackStorm(tracker, t0 + plan.stormWait().toNanos(), () -> control.stopRequested(),
                            () -> progress("storm"));
                    workerStormDone = true;
                    progress("storm over");
                    nextReport = System.nanoTime() + 1_000_000_000L;
                }
                long now = System.nanoTime();
                if (now - nextReport >= 0) {
                    nextReport += 1_000_000_000L;
                    progress("holding");
                }
                LockSupport.parkNanos(10_000_000);
            }
        } catch (WorkerStopped e) {
            // Told to stop (or orphaned) during the ramp: close what was opened and leave.
        } finally {
            progress("done");
            stopClients();
        }
        return 0;
    }

    /** Thrown out of a worker's ramp when its parent asks it to stop or is gone. */
    private static final class WorkerStopped extends RuntimeException {
        WorkerStopped() {
            super("stopped by the parent", null, false, false);
        }
    }

    private void workerReport(String phase) {
        BenchStats.Intervals interval = stats.drainAll();
        long lastWelcomeNs = stats.lastWelcomeNs.get();
        long lastWelcomeUs = lastWelcomeNs == 0 ? 0
                : EpochClock.micros() - (System.nanoTime() - lastWelcomeNs) / 1000;
        out.println(new WorkerReport(phase, WorkerReport.counters(stats), stats.errors(), interval, workerReady,
                workerStormDone, rampStartUs, rampEndUs, lastWelcomeUs).encode());
        out.flush();
        if (!workerReady && !phase.equals("done") && control.stopRequested()) {
            throw new WorkerStopped();
        }
    }

    // ---- reconnect storm (--storm)

    /**
     * Drops every connection at once and follows them back (in-process, or by telling the workers), until all are
     * back or --storm-wait ran out; samples the kernel's accept-queue counters once a second.
     */
    private void storm() {
        ListenCounters before = ListenCounters.read();
        ListenCounters[] previous = {before};
        ListenCounters[] peak = {ListenCounters.UNKNOWN};
        out.printf("bench: storm: dropping all %d open connections at once; each reconnects after exponential "
                        + "backoff with full jitter (base %d s, cap %d s) or the server's BYE retry=%n",
                stats.open.sum(), StormReconnect.BASE_MS / 1000, StormReconnect.CAP_MS / 1000);
        out.flush();
        long t0 = System.nanoTime();
        long deadline = t0 + plan.stormWait().toNanos();
        StormTracker tracker = null;
        if (fleet != null) {
            fleet.send("storm");
            // The workers keep their own deadline; give their last report time to arrive.
            deadline += TimeUnit.SECONDS.toNanos(2);
        } else {
            long established0 = stats.established.sum();
            tracker = new StormTracker(stats, stats.established::sum, dropAll(), established0, t0);
        }
        StormTracker local = tracker;
        trackStorm(local, deadline, () -> local == null && fleet.stormDone(), () -> {
            progress("storm");
            ListenCounters now = ListenCounters.read();
            peak[0] = peak[0].max(now.minus(previous[0]));
            previous[0] = now;
        });
        ListenCounters after = ListenCounters.read();
        peak[0] = peak[0].max(after.minus(previous[0]));
        progress("storm over");
        long dropped = stats.stormDropped.sum();
        Histogram back = stats.stormBackTotal;
        stormResult = new StormResult(dropped, back.getTotalCount(), StormTracker.timeToFractionUs(back, dropped, 0.99),
                StormTracker.timeToFractionUs(back, dropped, 1.0), after.minus(before), peak[0],
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Polls {@code tracker} (when there is one) every 10 ms until all are back, {@code over} says so, or the
     * deadline; runs {@code everySecond} once a second.
     */
    private static void trackStorm(StormTracker tracker, long deadlineNs, BooleanSupplier over,
                                   Runnable everySecond) {
        long nextSecond = System.nanoTime() + 1_000_000_000L;
        while (true) {
            long now = System.nanoTime();
            if (tracker != null) {
                tracker.poll(now);
            }
            if ((tracker != null && tracker.allBack()) || over.getAsBoolean() || now - deadlineNs >= 0) {
                return;
            }
            if (now - nextSecond >= 0) {
                nextSecond += 1_000_000_000L;
                everySecond.run();
            }
            LockSupport.parkNanos(10_000_000);
        }
    }

    /**
     * Closes every open connection at once (one task per event loop); each comes back through
     * {@link #reconnectLater}. Returns how many it dropped.
     */
    private long dropAll() {
        reconnecting = true;
        Map<EventLoop, List<Integer>> byLoop = new IdentityHashMap<>();
        long n = 0;
        for (int i = 0; i < channels.length; i++) {
            Channel ch = channels[i];
            if (ch != null && ch.isActive()) {
                byLoop.computeIfAbsent(ch.eventLoop(), l -> new ArrayList<>()).add(i);
                n++;
            }
        }
        stats.stormDropped.add(n);
        byLoop.forEach((loop, clients) -> loop.execute(() -> {
            for (int i : clients) {
                channels[i].close();
                reconnectLater(loop, i, 0, -1);
            }
        }));
        return n;
    }

    /** Schedules client {@code client}'s next connection attempt on {@code loop} (any thread). */
    private void reconnectLater(EventLoop loop, int client, int attempt, long retryMs) {
        if (!reconnecting) {
            return;
        }
        long delayMs = StormReconnect.delayMs(attempt, retryMs, ThreadLocalRandom.current());
        try {
            loop.schedule(() -> {
                if (reconnecting) {
                    connect(client, new StormReconnect(this::reconnectLater, client, attempt));
                }
            }, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // The run is ending: the loops take no more tasks.
        }
    }

    // ---- connect ramp

    private void ramp() throws InterruptedException {
        Semaphore pending = new Semaphore(plan.maxPendingConnects());
        Pacer pacer = new Pacer(Math.max(1, plan.rate()), plan.rampUp().toNanos());
        long nextProgress = pacer.startNs() + 1_000_000_000L;
        for (int i = 0; i < plan.connections(); i++) {
            long now = pacer.awaitTurn(i);
            if (now >= nextProgress) {
                progress("connecting");
                nextProgress += 1_000_000_000L;
            }
            pending.acquire();
            connect(i, null).addListener(done -> pending.release());
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

    /**
     * Opens client {@code i}'s connection; any thread, never blocks. {@code storm} is set for a reconnection after
     * a storm drop: it goes in front of the protocol handler and asks for the next attempt when this one is lost.
     */
    private ChannelFuture connect(int i, StormReconnect storm) {
        InetSocketAddress target = plan.targets().get(i % plan.targets().size());
        String id = plan.idPrefix() + (plan.idOffset() + i);
        long connectStart = System.nanoTime();
        stats.attempted.increment();
        Bootstrap cb = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                if (storm != null) {
                    ch.pipeline().addLast(storm);
                }
                ch.pipeline().addLast(plan.protocol().newHandler(loops.get(ch.eventLoop()).env(stats), id,
                        plan.hbSec(), connectStart));
            }
        });
        ChannelFuture f = plan.sources().isEmpty() ? cb.connect(target)
                : cb.connect(target, new InetSocketAddress(plan.sources().get(i % plan.sources().size()), 0));
        if (storm == null) {
            channels[i] = f.channel();
        }
        f.addListener(done -> {
            if (!done.isSuccess()) {
                stats.error(classify(done.cause()));
                if (storm != null) {
                    reconnectLater(group.next(), i, storm.attempt() + 1, -1);
                }
            }
        });
        return f;
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
        return "connect: " + BenchConnection.shortMessage(t);
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
        Pacer pacer = new Pacer(rate, 0);
        long nextProgress = pacer.startNs() + 1_000_000_000L;
        int n = Math.max(1, plan.connections());
        for (long i = 0; i < count; i++) {
            long now = pacer.awaitTurn(i);
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
                    stats.error(err != null ? "push: " + BenchConnection.shortMessage(err)
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
        return Math.max(0, ProcFiles.rssBytes(Long.toString(pid)));
    }

    static long slabBytes() {
        return ProcFiles.meminfoBytes("Slab:");
    }

    // ---- output

    private void progress(String phase) {
        if (control != null) {
            workerReport(phase);
            return;
        }
        Histogram interval = stats.drainIntervals();
        long nowNs = System.nanoTime();
        double secs = (nowNs - startNs) / 1e9;
        double intervalSec = Math.max(1e-3, (nowNs - lastProgressNs) / 1e9);
        lastProgressNs = nowNs;
        StringBuilder sb = new StringBuilder();
        long handshakes = stats.established.sum();
        // After the ramp, further handshakes are reconnections: shown apart so that "established" stays the ramp's.
        long shown = rampEstablished < 0 ? handshakes : rampEstablished;
        sb.append(String.format("[%6.1fs] %-11s established %d/%d open %d", secs, phase, shown,
                plan.connections(), stats.open.sum()));
        if (handshakes > shown) {
            sb.append(" reconnected ").append(handshakes - shown);
        }
        sb.append(" msgs ").append(stats.messages.sum()).append(" pings ").append(stats.pings.sum());
        if (interval.getTotalCount() > 0) {
            sb.append(String.format(" | push %d/s p99 %.2f ms", interval.getTotalCount(),
                    interval.getValueAtPercentile(99) / 1000.0));
        }
        if (stats.stormDropped.sum() > 0) {
            sb.append(" | storm back ").append(stats.stormBackTotal.getTotalCount()).append('/')
                    .append(stats.stormDropped.sum());
        }
        if (fleet != null) {
            sb.append(" | workers ").append(fleet.alive()).append('/').append(fleet.size());
        }
        long errs = stats.errorCount();
        if (errs > 0) {
            sb.append(" | errors ").append(errs).append(' ').append(stats.errors());
        }
        out.println(sb);
        out.flush();
        timeline.add(new Sample(secs, stats.established.sum(), stats.open.sum(), errs,
                interval.getTotalCount() / intervalSec,
                interval.getTotalCount() > 0 ? interval.getValueAtPercentile(99) / 1000.0 : Double.NaN));
    }

    private com.fasterxml.jackson.databind.node.ArrayNode timelineJson() {
        com.fasterxml.jackson.databind.node.ArrayNode a = JSON.createArrayNode();
        for (Sample s : timeline) {
            ObjectNode n = a.addObject().put("t_s", Math.round(s.elapsedSec() * 10) / 10.0)
                    .put("established", s.established()).put("open", s.open()).put("errors", s.errors())
                    .put("pushes_per_s", Math.round(s.pushesPerSec()));
            if (Double.isNaN(s.pushP99Ms())) {
                n.putNull("push_p99_ms");
            } else {
                n.put("push_p99_ms", s.pushP99Ms());
            }
        }
        return a;
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
        Histogram handshakes = rampHandshakes != null ? rampHandshakes : stats.handshakeTotal;
        row("handshake latency p50 / p99 (ramp)", ms(handshakes, 50) + " / " + ms(handshakes, 99));
        if (plan.workers() > 1) {
            row("worker processes", plan.workers() + " (" + WorkerSplit.share(plan.connections(), plan.workers(), 0)
                    + " connections each at most)");
            report.put("workers", plan.workers());
        }
        row("accept queue drops during the ramp (host)", rampListen.toString());
        report.put("ramp_listen_overflows", rampListen.overflows()).put("ramp_listen_drops", rampListen.drops());
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
        if (stormResult != null) {
            StormResult st = stormResult;
            row("storm: connections dropped / back", st.dropped() + " / " + st.back() + String.format(" (after %.1f s)",
                    st.waitedSec()));
            row("storm: time until 99% / all back", sec(st.to99PercentUs()) + " / " + sec(st.toAllUs()));
            row("storm: accept queue drops (host)", st.listen().toString());
            row("storm: peak accept queue drops per second", st.peakPerSecond().toString());
            report.putObject("storm").put("dropped", st.dropped()).put("back", st.back())
                    .put("to_99_percent_back_ms", st.to99PercentUs() < 0 ? -1 : st.to99PercentUs() / 1000.0)
                    .put("to_all_back_ms", st.toAllUs() < 0 ? -1 : st.toAllUs() / 1000.0)
                    .put("listen_overflows", st.listen().overflows()).put("listen_drops", st.listen().drops())
                    .put("peak_listen_overflows_per_s", st.peakPerSecond().overflows())
                    .put("peak_listen_drops_per_s", st.peakPerSecond().drops());
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
        rows.add(new HtmlReport.Row(name, value));
    }

    private static String sec(long us) {
        return us < 0 ? "not reached" : String.format("%.2f s", us / 1e6);
    }

    private static String ms(Histogram h, double percentile) {
        return String.format("%.2f ms", h.getValueAtPercentile(percentile) / 1000.0);
    }

    private static void sleepUntilNextSecond() {
        LockSupport.parkNanos(1_000_000_000L);
    }
}
