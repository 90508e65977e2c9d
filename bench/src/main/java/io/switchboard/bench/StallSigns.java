package io.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a connect ramp that stopped moving leaves to see, read when the stall is declared, and the line that names
 * its likely causes for the operator: the CPU (load average against cores), the servers' accept queues (connections
 * the kernel dropped since the ramp began), source ports and file descriptors (the connect errors), and the
 * servers' answers (connections open but not welcomed). Immutable.
 *
 * @param loadAverage the one-minute load average; negative when unreadable
 * @param cores the cores this machine has
 * @param listenOverflows connections dropped by full accept queues since the ramp began (machine-wide); -1 unknown
 * @param awaitingWelcome connections open but not yet answered with WELCOME
 * @param errors the run's errors by kind, as {@link BenchClients#classify} names them
 */
record StallSigns(double loadAverage, int cores, long listenOverflows, long awaitingWelcome, Map<String, Long> errors) {
    /** A load average this many times the cores: every runnable thread waits several time slices for one. */
    static final int BUSY_LOAD_PER_CORE = 4;

    /** The signs now, for a ramp that began at {@code rampStart}'s accept-queue reading and has {@code stats}. */
    static StallSigns read(ListenCounters rampStart, BenchStats stats) {
        return new StallSigns(loadAverage(Path.of("/proc/loadavg")), Runtime.getRuntime().availableProcessors(),
                ListenCounters.read().minus(rampStart).overflows(),
                Math.max(0, stats.open.sum() - stats.established.sum()), stats.errors());
    }

    static double loadAverage(Path loadavg) {
        try {
            return Double.parseDouble(Files.readString(loadavg).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The likely causes, most basic first, joined with "; "; says so when none shows. */
    String causes() {
        List<String> causes = new ArrayList<>();
        if (loadAverage >= (double) BUSY_LOAD_PER_CORE * cores) {
            causes.add(String.format(Locale.ROOT, "CPU: load average %.1f on %d cores (every process waits for a "
                    + "core; a JVM starting now takes tens of seconds)", loadAverage, cores));
        }
        if (listenOverflows > 0) {
            causes.add("accept queue: " + listenOverflows + " connections dropped by full listen queues since the "
                    + "ramp began (the servers accept too slowly)");
        }
        long ports = errors.getOrDefault(BenchClients.OUT_OF_PORTS, 0L);
        if (ports > 0) {
            causes.add("ports: " + ports + " connects found no free source port (add addresses with --source)");
        }
        long files = errors.getOrDefault(BenchClients.OUT_OF_FILES, 0L);
        if (files > 0) {
            causes.add("files: " + files + " connects found no free file descriptor (see 'switchboard doctor')");
        }
        if (awaitingWelcome > 0) {
            causes.add(awaitingWelcome + " connections open but not welcomed (the servers are slow to answer HELLO)");
        }
        return causes.isEmpty() ? "no sign of a busy CPU, a full accept queue, or a lack of ports or files"
                : String.join("; ", causes);
    }
}
