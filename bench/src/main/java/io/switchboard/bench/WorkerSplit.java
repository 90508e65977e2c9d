package io.switchboard.bench;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a {@code --workers} run divides its work between worker processes: how many, and each one's connections,
 * first client id, connect rate and source addresses. Every worker's ids follow the previous worker's, so together
 * they hold exactly the ids a single process would. Stateless.
 */
final class WorkerSplit {
    /**
     * Connections per worker under {@code --workers auto}: with the client's own files (epoll, pipes, jars) this
     * keeps each process well under a 20,000 open-file cap that cannot be raised.
     */
    static final int CONNECTIONS_PER_WORKER = 15_000;

    private WorkerSplit() {}

    /** {@code auto}: one process up to 15,000 connections, else one per 15,000 (rounded up); or a number 1-1000. */
    static int workers(String spec, int connections) {
        String s = spec == null ? "auto" : spec.trim();
        if (s.equalsIgnoreCase("auto")) {
            return connections <= CONNECTIONS_PER_WORKER ? 1
                    : (int) ((connections + (long) CONNECTIONS_PER_WORKER - 1) / CONNECTIONS_PER_WORKER);
        }
        int n;
        try {
            n = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--workers must be 'auto' or a number, not '" + spec + "'");
        }
        if (n < 1 || n > 1000) {
            throw new IllegalArgumentException("--workers must be 1-1000, not " + n);
        }
        if (n > connections) {
            throw new IllegalArgumentException("--workers " + n + " is more than --connections " + connections
                    + ": every worker needs at least one connection");
        }
        return n;
    }

    /** Worker {@code w}'s part of {@code total} (0-based {@code w}); the first {@code total % workers} get one more. */
    static int share(int total, int workers, int w) {
        return total / workers + (w < total % workers ? 1 : 0);
    }

    /** As {@link #share}, but at least 1 (rates and bounds must stay positive). */
    static int positiveShare(int total, int workers, int w) {
        return Math.max(1, share(total, workers, w));
    }

    /** The first client number of worker {@code w}: {@code firstId} plus the shares of the workers before it. */
    static int idOffset(int firstId, int total, int workers, int w) {
        long before = (long) (total / workers) * w + Math.min(w, total % workers);
        return Math.toIntExact(firstId + before);
    }

    /**
     * Worker {@code w}'s source addresses: a disjoint contiguous slice when there are at least as many addresses as
     * workers (so no two processes compete for one address's ports), otherwise all of them.
     */
    static List<InetAddress> sources(List<InetAddress> all, int workers, int w) {
        if (all.size() < workers) {
            return all;
        }
        int from = idOffset(0, all.size(), workers, w);
        return all.subList(from, from + share(all.size(), workers, w));
    }

    /**
     * The arguments of worker {@code w}'s {@code bench} command: its own share of the connections, the whole
     * --rate and --max-pending-connects (the parent ramps its workers one at a time), no API (the parent pushes),
     * then {@code passThrough} (the parent's own options that apply unchanged, such as --target or --hb).
     */
    static List<String> childArgs(int w, int workers, int connections, int firstId, int rate, int maxPendingConnects,
                                  List<InetAddress> sources, Duration stormWait, List<String> passThrough) {
        List<String> a = new ArrayList<>(List.of("bench", "--as-worker", Integer.toString(w + 1),
                "--connections", Integer.toString(share(connections, workers, w)),
                "--id-offset", Integer.toString(idOffset(firstId, connections, workers, w)),
                "--rate", Integer.toString(rate),
                "--max-pending-connects", Integer.toString(maxPendingConnects),
                "--storm-wait", stormWait.toMillis() + "ms",
                "--api", "none"));
        List<InetAddress> mine = sources(sources, workers, w);
        if (!mine.isEmpty()) {
            a.add("--source");
            a.add(BenchArgs.formatSources(mine));
        }
        a.addAll(passThrough);
        return a;
    }
}
