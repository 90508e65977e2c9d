package io.switchboard.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The parent side of {@code bench --workers N}: starts N worker processes of the same program, merges the report
 * each writes once a second into the parent's {@link BenchStats} (counters by difference with the worker's previous
 * report, histograms added), sends them commands on their stdin, and stops them when the run ends, fails or is
 * interrupted (a shutdown hook covers Ctrl-C): first politely ({@code stop}), then {@code destroy()}, then
 * {@code destroyForcibly()} a few seconds later. One reader thread per worker owns that worker's previous report;
 * the flags it publishes are volatile. Other methods are called by the bench's main thread.
 */
final class WorkerFleet implements AutoCloseable {
    /** How long a worker may take to close its connections and exit after {@code stop}, or after destroy(). */
    static final long STOP_GRACE_MS = 5_000;
    /**
     * Heap of each worker: it holds up to ~19,000 connections at about 2 KB of heap each, so 512 MB is ample; a
     * small fixed young generation and a small initial heap keep what the process touches (its RSS) near what it
     * holds: without them the JVM starts with 1/64 of the machine's memory and touches all of its young part.
     */
    static final List<String> WORKER_HEAP = List.of("-Xms32m", "-Xmx512m", "-Xmn8m", "-Xss512k");

    private final BenchStats stats;
    private final PrintWriter log;
    // Appended by the main thread while the shutdown hook may read it.
    private final List<Worker> workers = new CopyOnWriteArrayList<>();
    private final Thread shutdownHook = new Thread(this::destroyAll, "bench-workers-shutdown");

    /** One worker process and what its reader thread learned from it. */
    private final class Worker {
        final int number;
        final Process process;
        final Writer stdin;
        Thread reader;
        final long launchedNs = System.nanoTime();
        volatile boolean heard;
        volatile boolean ready;
        volatile boolean stormDone;
        volatile boolean done;
        volatile boolean exited;
        volatile long rampStartUs;
        volatile long rampEndUs;
        // Owned by the reader thread.
        final WorkerReport.Merger merger = new WorkerReport.Merger();
        boolean badLineLogged;

        Worker(int number, Process process) {
            this.number = number;
            this.process = process;
            this.stdin = process.outputWriter(StandardCharsets.UTF_8);
        }
    }

    private WorkerFleet(BenchStats stats, PrintWriter log) {
        this.stats = stats;
        this.log = log;
    }

    /**
     * The command that starts a worker: this JVM's java binary, the flags a worker needs (compact object headers,
     * native access for epoll), this JVM's {@code -D} and {@code -XX} flags (but not its heap sizing or pre-touch),
     * a small heap, this class path and the CLI main class.
     */
    static List<String> javaLauncher() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java));
        List<String> inherited = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (inherit(a)) {
                inherited.add(a);
            }
        }
        cmd.addAll(inherited);
        for (String required : List.of("-XX:+UseCompactObjectHeaders", "--enable-native-access=ALL-UNNAMED")) {
            if (!inherited.contains(required)) {
                cmd.add(required);
            }
        }
        // A worker is a small, allocation-light process: the serial collector needs no extra threads on a small box.
        if (inherited.stream().noneMatch(a -> a.startsWith("-XX:+Use") && a.endsWith("GC"))) {
            cmd.add("-XX:+UseSerialGC");
        }
        cmd.addAll(WORKER_HEAP);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("io.switchboard.cli.Main");
        return cmd;
    }

    static boolean inherit(String jvmArg) {
        if (jvmArg.startsWith("-XX:")) {
            return !jvmArg.contains("AlwaysPreTouch") && !jvmArg.contains("HeapSize") && !jvmArg.contains("Flight");
        }
        return jvmArg.startsWith("-D") || jvmArg.startsWith("--enable-native-access")
                || jvmArg.startsWith("--add-opens") || jvmArg.startsWith("--add-exports");
    }

    /** A fleet with no worker yet: {@link #launch} adds them one at a time. */
    static WorkerFleet create(BenchStats stats, PrintWriter log) {
        WorkerFleet fleet = new WorkerFleet(stats, log);
        Runtime.getRuntime().addShutdownHook(fleet.shutdownHook);
        return fleet;
    }

    /** Starts one more worker process ({@code launcher} + {@code args}); its number is {@link #size()} after. */
    void launch(List<String> launcher, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Worker w = new Worker(workers.size() + 1, p);
        workers.add(w);
        w.reader = new Thread(() -> read(w), "bench-worker-" + w.number);
        w.reader.setDaemon(true);
        w.reader.start();
    }

    private void read(Worker w) {
        try (BufferedReader r = w.process.inputReader(StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("{")) {
                    try {
                        apply(w, WorkerReport.decode(line));
                    } catch (IllegalArgumentException e) {
                        if (!w.badLineLogged) {
                            w.badLineLogged = true;
                            say("bench: worker " + w.number + ": " + e.getMessage());
                        }
                    }
                } else {
                    say("bench: worker " + w.number + ": " + line);
                }
            }
        } catch (IOException e) {
            // The pipe broke: the worker is gone, handled below like EOF.
        }
        int code = waitFor(w.process, STOP_GRACE_MS);
        if (!w.done) {
            // Its connections are gone with it: they must not stay in the parent's open count.
            w.merger.lost(stats);
            stats.error("worker exited early (code " + code + ")");
            say("bench: worker " + w.number + " (pid " + w.process.pid() + ") exited with code " + code
                    + " before the run ended");
        }
        w.exited = true;
    }

    private void apply(Worker w, WorkerReport r) {
        w.merger.apply(r, stats);
        w.heard = true;
        w.rampStartUs = r.rampStartUs();
        w.rampEndUs = r.rampEndUs();
        w.ready = r.ready();
        w.stormDone = r.stormDone();
        w.done = r.phase().equals("done");
    }

    /** A wall-clock time in microseconds as a {@code System.nanoTime()} value of this process. */
    static long toNanoTime(long epochUs) {
        return System.nanoTime() - (EpochClock.micros() - epochUs) * 1000;
    }

    int size() {
        return workers.size();
    }

    int alive() {
        int n = 0;
        for (Worker w : workers) {
            n += w.exited ? 0 : 1;
        }
        return n;
    }

    List<Long> pids() {
        return workers.stream().map(w -> w.process.pid()).toList();
    }

    /** Every worker finished its ramp, or exited. */
    boolean allReady() {
        return workers.stream().allMatch(w -> w.ready || w.exited);
    }

    /** The newest worker finished its ramp, or exited (true when there is none). */
    boolean lastReady() {
        Worker w = workers.isEmpty() ? null : workers.get(workers.size() - 1);
        return w == null || w.ready || w.exited;
    }

    /**
     * Nanoseconds since the newest worker was started if it has not reported yet (its JVM is still starting), else
     * -1 (none, or it has reported).
     */
    long newestSilentNs() {
        Worker w = workers.isEmpty() ? null : workers.get(workers.size() - 1);
        return w == null || w.heard || w.exited ? -1 : System.nanoTime() - w.launchedNs;
    }

    /** The newest worker's pid; -1 when there is none. */
    long newestPid() {
        return workers.isEmpty() ? -1 : workers.get(workers.size() - 1).process.pid();
    }

    /** Every worker finished its storm, or exited. */
    boolean stormDone() {
        return workers.stream().allMatch(w -> w.stormDone || w.exited);
    }

    /** The earliest ramp start the workers reported, as this process's {@code nanoTime}; 0 if none did. */
    long earliestRampStartNs() {
        long us = workers.stream().mapToLong(w -> w.rampStartUs).filter(v -> v > 0).min().orElse(0);
        return us == 0 ? 0 : toNanoTime(us);
    }

    /**
     * Seconds during which at least one worker was ramping (the union of their reported ramps): the time between
     * them (a worker's JVM starting, the wait for the previous one to be ready) left out; 0 if none reported.
     */
    double rampingSec() {
        List<long[]> spans = new java.util.ArrayList<>();
        for (Worker w : workers) {
            if (w.rampStartUs > 0 && w.rampEndUs >= w.rampStartUs) {
                spans.add(new long[] {w.rampStartUs, w.rampEndUs});
            }
        }
        return unionSec(spans);
    }

    /** The length of the union of [start, end] microsecond spans, in seconds. */
    static double unionSec(List<long[]> spans) {
        List<long[]> sorted = new java.util.ArrayList<>(spans);
        sorted.sort(java.util.Comparator.comparingLong(a -> a[0]));
        long total = 0;
        long curStart = -1;
        long curEnd = -1;
        for (long[] s : sorted) {
            if (s[0] > curEnd) {
                total += curEnd - curStart;
                curStart = s[0];
                curEnd = s[1];
            } else {
                curEnd = Math.max(curEnd, s[1]);
            }
        }
        total += curEnd - curStart;
        return total / 1e6;
    }

    /** The latest ramp end the workers reported, as this process's {@code nanoTime}; 0 if none did. */
    long latestRampEndNs() {
        long us = workers.stream().mapToLong(w -> w.rampEndUs).max().orElse(0);
        return us == 0 ? 0 : toNanoTime(us);
    }

    /** Sends one command line to every worker still running (a worker that cannot be written to is gone). */
    void send(String command) {
        for (Worker w : workers) {
            if (w.exited) {
                continue;
            }
            try {
                w.stdin.write(command + "\n");
                w.stdin.flush();
            } catch (IOException e) {
                // Its reader thread reports the exit.
            }
        }
    }

    /**
     * Asks every worker to stop (each writes a final report, closes its connections and exits), waits for them
     * and their last reports, and destroys any that did not exit in time.
     */
    void stop() {
        send("stop");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_GRACE_MS * 2);
        for (Worker w : workers) {
            long left = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            waitFor(w.process, left);
            join(w.reader, 2_000);
        }
        close();
    }

    /** Destroys whatever still runs and forgets the shutdown hook. Idempotent. */
    @Override
    public void close() {
        destroyAll();
        for (Worker w : workers) {
            join(w.reader, 2_000);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C arrived meanwhile: the hook is already stopping the workers.
        }
    }

    private void destroyAll() {
        List<Process> running = workers.stream().map(w -> w.process).filter(Process::isAlive).toList();
        for (Process p : running) {
            p.destroy();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_GRACE_MS);
        for (Process p : running) {
            if (waitFor(p, Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))) < 0) {
                p.destroyForcibly();
                say("bench: worker pid " + p.pid() + " did not exit " + STOP_GRACE_MS / 1000
                        + " s after SIGTERM; killed it");
            }
        }
    }

    /** Waits up to {@code ms} for exit; returns the exit code, or -1 if it is still running. */
    private static int waitFor(Process p, long ms) {
        try {
            return p.waitFor(ms, TimeUnit.MILLISECONDS) ? p.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return p.isAlive() ? -1 : p.exitValue();
        }
    }

    private static void join(Thread t, long ms) {
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        try {
            t.join(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void say(String line) {
        synchronized (log) {
            log.println(line);
            log.flush();
        }
    }
}
