package io.switchboard.bench;

import io.switchboard.bench.BenchApi.ServerReading;
import io.switchboard.bench.protocol.BenchProtocol;
import io.switchboard.process.ProcFiles;
import io.switchboard.transport.Transport;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;

/**
 * One bench run: baseline readings, a paced connect ramp, a hold with optional pushes and a broadcast, readings
 * of the server's cost, then a report. Runs on the calling thread; the clients live on their own event loops.
 * This class sequences the phases (in this process, across --workers processes, or as one worker);
 * {@link BenchClients}, {@link PushDriver}, {@link BenchApi} and {@link BenchReport} do the work.
 */
final class BenchRun {
    /** What to run; filled from the command line. */
    record Plan(List<InetSocketAddress> targets, List<java.net.InetAddress> sources, int connections, int rate,
                Duration hold, String idPrefix, int idOffset, int hbSec, Transport transport, int eventLoops,
                URI api, String apiToken, int pushRate, Duration pushDuration, Duration pushWarmup, int broadcasts,
                List<Long> serverPids, Duration connectTimeout, int maxPendingConnects, Path json,
                BenchProtocol protocol, int workers, List<String> workerArgs, int asWorker, boolean storm,
                Duration stormWait, Path html, Duration rampUp, String publishVia, int pushConcurrency,
                Duration broadcastGap, int broadcastWarmup) {
        /** Whether to time broadcasts ({@code broadcasts} of them, one after another). */
        boolean broadcast() {
            return broadcasts > 0;
        }

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

    private final Plan plan;
    private final PrintWriter out;
    private final BenchStats stats = new BenchStats();
    private final BenchApi api;
    private final BenchReport report;
    /** The in-process clients (a --workers parent starts none: its workers hold them). */
    private final BenchClients clients;
    private final PushDriver pushes;

    private WorkerFleet fleet;
    // In a worker process: the parent's commands, and what the reports say.
    private WorkerControl control;
    private boolean workerReady;
    private boolean workerStormDone;
    private long rampStartUs;
    private long rampEndUs;

    BenchRun(Plan plan, PrintWriter out) {
        this.plan = plan;
        this.out = out;
        this.api = new BenchApi(plan, out);
        this.report = new BenchReport(plan, out, stats, System.nanoTime());
        this.clients = new BenchClients(plan, stats, out, this::progress);
        this.pushes = new PushDriver(plan, stats, api, out, this::progress);
    }


    int run() throws Exception {
        if (plan.isWorker()) {
            return runWorker();
        }
        boolean fanOut = plan.workers() > 1;
        if (!fanOut) {
            clients.start();
        }
        try {
            ServerReading before = api.readServer(true);
            long slabBefore = BenchApi.slabBytes();
            report.baseline(before);

            ListenCounters listenBefore = ListenCounters.read();
            long rampStart = System.nanoTime();
            if (fanOut) {
                rampWorkers();
                // The workers' JVM start-up is not part of the ramp: it begins with their first connect.
                long workersStart = fleet.earliestRampStartNs();
                rampStart = workersStart != 0 ? workersStart : rampStart;
            } else {
                clients.ramp();
            }
            long rampEnd = System.nanoTime();
            if (fanOut && fleet.latestRampEndNs() != 0) {
                rampEnd = fleet.latestRampEndNs();
            }
            double rampSec = (rampEnd - rampStart) / 1e9;
            long established = stats.established.sum();
            double handshakeSec = (stats.lastWelcomeNs.get() - rampStart) / 1e9;
            double handshakeRate = established / Math.max(handshakeSec, 1e-3);
            // With workers started one after another, the wall-clock rate includes the gaps between them (a JVM
            // starting, the wait for the previous worker's readiness): the rate while they ramp leaves those out.
            double rampingSec = fanOut ? fleet.rampingSec() : 0;
            report.rampingRate(rampingSec > 0 ? established / rampingSec : -1);
            report.rampDone(established, ListenCounters.read().minus(listenBefore));
            progress("ramp done");
            // Later handshakes (storm reconnections) must not blur the ramp's.
            report.rampHandshakes(stats.handshakeTotal.copy());

            ServerReading after = api.readServer(true);
            long slabAfter = BenchApi.slabBytes();
            report.loaded(after);

            long holdEnd = System.nanoTime() + plan.hold().toNanos();
            if (plan.pushRate() > 0 && (plan.api() != null || plan.publishVia() != null)) {
                pushes.push(Math.min(plan.pushDuration().toNanos(), Math.max(0, holdEnd - System.nanoTime())));
            }
            List<Long> broadcastMs = List.of();
            if (plan.broadcast() && (plan.api() != null || plan.publishVia() != null)) {
                broadcastMs = pushes.broadcasts(plan.broadcasts());
            }
            if (plan.storm()) {
                storm();
            }
            while (System.nanoTime() < holdEnd) {
                sleepUntilNextSecond();
                progress("holding");
            }
            stats.drainIntervals();
            ServerReading end = api.readServer(false);

            report.print(established, rampSec, handshakeRate, before, after, end, slabBefore, slabAfter, broadcastMs);
            report.writeFiles();
            out.flush();
            return established >= plan.connections() ? 0 : 1;
        } finally {
            if (fleet != null) {
                fleet.stop();
            }
            clients.stop();
        }
    }

    // ---- worker processes (--workers)

    /**
     * Starts the worker processes one after the other, each when the one before has finished its ramp (or exited),
     * so that only one JVM starts and one ramp runs at a time at the full --rate: dozens of JVMs started together
     * on a small machine starve each other. Stops starting more when the workers make no progress for
     * {@value #WORKER_STALL_SEC} s ({@value #WORKER_START_SEC} s while the newest has not reported yet) or the
     * machine's available memory falls below {@link #MIN_AVAILABLE_BYTES}, saying which and, for a stall, its likely
     * causes ({@link StallSigns}), and goes on with the clients it has.
     */
    private void rampWorkers() throws IOException {
        int n = plan.workers();
        fleet = WorkerFleet.create(stats, out);
        out.printf("bench: starting %d worker processes one after the other, %d connections each at most, %s%n", n,
                WorkerSplit.share(plan.connections(), n, 0),
                plan.sources().size() >= n ? "each with its own slice of the " + plan.sources().size()
                        + " source addresses" : plan.sources().isEmpty() ? "default source address"
                        : "sharing the " + plan.sources().size() + " source addresses");
        out.flush();
        List<String> launcher = WorkerFleet.javaLauncher();
        ListenCounters listenAtStart = ListenCounters.read();
        long lastCount = -1;
        long lastChange = System.nanoTime();
        int launched = 0;
        while (true) {
            if (fleet.lastReady() && launched < n) {
                long available = ProcFiles.meminfoBytes("MemAvailable:");
                if (available >= 0 && available < MIN_AVAILABLE_BYTES) {
                    out.printf("bench: the machine has %d MB available, below %d MB: not starting workers %d-%d; "
                                    + "continuing with %d clients%n", available >> 20, MIN_AVAILABLE_BYTES >> 20,
                            launched + 1, n, stats.established.sum());
                    break;
                }
                fleet.launch(launcher, WorkerSplit.childArgs(launched, n, plan.connections(), plan.idOffset(),
                        plan.rate(), plan.maxPendingConnects(), plan.sources(), plan.stormWait(), plan.workerArgs()));
                launched++;
                lastChange = System.nanoTime();
                continue;
            }
            if (fleet.allReady()) {
                break;
            }
            sleepUntilNextSecond();
            progress((stats.attempted.sum() < plan.connections() ? "connecting" : "handshaking")
                    + " w" + launched + "/" + n);
            long count = stats.attempted.sum() + stats.established.sum() + stats.errorCount();
            if (count != lastCount) {
                lastCount = count;
                lastChange = System.nanoTime();
            } else if (stalled(lastChange)) {
                long silentNs = fleet.newestSilentNs();
                String worker = "worker " + launched + " of " + n;
                String newest = silentNs < 0 ? worker + " was ramping" : worker + " (pid " + fleet.newestPid()
                        + ") has reported nothing in " + TimeUnit.NANOSECONDS.toSeconds(silentNs)
                        + " s since it started";
                StallSigns signs = StallSigns.read(listenAtStart, stats);
                out.println("bench: the workers made no progress for " + TimeUnit.NANOSECONDS.toSeconds(
                        System.nanoTime() - lastChange) + " s (" + newest + "); continuing with "
                        + stats.established.sum() + " clients; likely causes: " + signs.causes());
                break;
            }
        }
        if (fleet.alive() == 0) {
            out.println("bench: every worker exited before its ramp was over");
        }
        out.printf("bench: %d worker processes (pids %s)%n", fleet.size(), fleet.pids());
        out.flush();
    }

    /** Below this much available memory (MemAvailable) a parent starts no more workers. */
    static final long MIN_AVAILABLE_BYTES = 1L << 30;

    /** How long a parent waits for its workers' ramp to move before it goes on without them. */
    static final int WORKER_STALL_SEC = 30;
    /**
     * ... and for a worker started last that has not reported yet: a JVM starting on a machine whose cores are taken
     * by the processes already holding clients (a million-client run: load average ~45 on 2 cores) took over 30 s.
     */
    static final int WORKER_START_SEC = 180;

    /** Whether the ramp counts as stalled, having last moved at {@code lastChange}. */
    private boolean stalled(long lastChange) {
        long quietNs = System.nanoTime() - lastChange;
        long limitSec = fleet.newestSilentNs() >= 0 ? WORKER_START_SEC : WORKER_STALL_SEC;
        return quietNs > TimeUnit.SECONDS.toNanos(limitSec);
    }

    /**
     * The run of a worker process: ramp, then hold, reporting once a second on stdout, until the parent says
     * {@code stop} (or is gone); a {@code storm} command drops and reconnects this worker's clients.
     */
    private int runWorker() throws Exception {
        control = WorkerControl.start(System.in);
        clients.start();
        try {
            rampStartUs = EpochClock.micros();
            clients.ramp();
            rampEndUs = EpochClock.micros();
            workerReady = true;
            progress("ready");
            long nextReport = System.nanoTime() + 1_000_000_000L;
            while (!control.stopRequested()) {
                if (control.takeStorm()) {
                    long t0 = System.nanoTime();
                    long established0 = stats.established.sum();
                    StormTracker tracker = new StormTracker(stats, stats.established::sum, clients.dropAll(), established0,
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
                // Until the next report, or at once when the parent sends a command.
                control.awaitCommand(Math.max(1, nextReport - System.nanoTime()));
            }
        } catch (WorkerStopped e) {
            // Told to stop (or orphaned) during the ramp: close what was opened and leave.
        } finally {
            progress("done");
            clients.stop();
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
            tracker = new StormTracker(stats, stats.established::sum, clients.dropAll(), established0, t0);
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
        report.stormDone(new StormResult(dropped, back.getTotalCount(), StormTracker.timeToFractionUs(back, dropped, 0.99),
                StormTracker.timeToFractionUs(back, dropped, 1.0), after.minus(before), peak[0],
                (System.nanoTime() - t0) / 1e9));
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

    // ---- output

    /** Once a second during every phase: a progress line, or in a worker a report to the parent. */
    private void progress(String phase) {
        if (control != null) {
            workerReport(phase);
            return;
        }
        report.progress(phase, fleet);
    }

    static void sleepUntilNextSecond() {
        LockSupport.parkNanos(1_000_000_000L);
    }
}
