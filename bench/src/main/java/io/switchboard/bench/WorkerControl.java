package io.switchboard.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The worker side of {@code --workers}: reads the parent's commands ({@code storm}, {@code stop}) from stdin on a
 * daemon thread, and notices when the parent is gone (stdin at EOF, or the parent process no longer alive). Once
 * the parent is gone the worker is asked to stop, and if the JVM is still running {@link #EXIT_GRACE_NS} later
 * it exits by itself, so an orphaned worker never holds connections. Flags are volatile; any thread may read them.
 */
final class WorkerControl {
    static final long EXIT_GRACE_NS = TimeUnit.SECONDS.toNanos(10);

    private final Optional<ProcessHandle> parent = ProcessHandle.current().parent();
    private volatile boolean stormRequested;
    private volatile boolean stopRequested;
    private volatile boolean parentGone;
    /** The thread in {@link #awaitCommand}, woken when a command arrives. */
    private volatile Thread waiter;

    private WorkerControl() {}

    static WorkerControl start(InputStream commands) {
        WorkerControl c = new WorkerControl();
        Thread t = new Thread(() -> c.readCommands(commands), "bench-worker-control");
        t.setDaemon(true);
        t.start();
        return c;
    }

    private void readCommands(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                switch (line.trim()) {
                    case "storm" -> stormRequested = true;
                    case "stop" -> stopRequested = true;
                    default -> System.err.println("bench worker: ignoring unknown command '" + line.trim() + "'");
                }
                wake();
            }
        } catch (IOException e) {
            // A broken pipe means the same as EOF: the parent is gone.
        }
        exitAfterGrace();
    }

    private void exitAfterGrace() {
        parentGone = true;
        stopRequested = true;
        wake();
        long deadline = System.nanoTime() + EXIT_GRACE_NS;
        while (System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(deadline - System.nanoTime());
        }
        System.err.println("bench worker: parent gone and still running after 10 s; exiting");
        System.exit(3);
    }

    /**
     * Waits up to {@code nanos} for a command (or the parent's end), returning at once when one is pending: the
     * holding worker sleeps between its reports instead of looking ten times a second (a wake-up each, in each of
     * ~55 workers at a million clients). May return early; callers check the flags again.
     */
    void awaitCommand(long nanos) {
        waiter = Thread.currentThread();
        try {
            if (!stormRequested && !stopRequested) {
                LockSupport.parkNanos(this, nanos);
            }
        } finally {
            waiter = null;
        }
    }

    private void wake() {
        Thread t = waiter;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Whether the parent asked for a storm since the last call (and clears the request). */
    boolean takeStorm() {
        if (stormRequested) {
            stormRequested = false;
            return true;
        }
        return false;
    }

    /** The parent said stop, or is gone. Also checks that the parent process is still alive. */
    boolean stopRequested() {
        if (!stopRequested && parent.isPresent() && !parent.get().isAlive()) {
            stopRequested = true;
            parentGone = true;
        }
        return stopRequested;
    }

    boolean parentGone() {
        return parentGone;
    }
}
