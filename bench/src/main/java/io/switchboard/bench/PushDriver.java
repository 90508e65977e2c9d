package io.switchboard.bench;

import io.switchboard.bench.protocol.BenchConnection;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Drives pushes through the API at a paced rate (latency counted from each push's intended send time) and a
 * broadcast to all. Runs on the run's calling thread; replies arrive on the HTTP client's threads.
 */
final class PushDriver {
    /** API requests in flight at most unless --push-concurrency says otherwise: bounds the HTTP connections. */
    static final int DEFAULT_PUSHES_IN_FLIGHT = 64;
    private final BenchRun.Plan plan;
    private final BenchStats stats;
    private final BenchApi api;
    private final PrintWriter out;
    /** Reports the phase once a second. */
    private final Consumer<String> progress;

    PushDriver(BenchRun.Plan plan, BenchStats stats, BenchApi api, PrintWriter out, Consumer<String> progress) {
        this.plan = plan;
        this.stats = stats;
        this.api = api;
        this.out = out;
        this.progress = progress;
    }

    /** A connection of {@code --publish-via}'s protocol, to the API or to the peer. */
    private Publisher openPublisher() throws IOException {
        java.net.InetSocketAddress to = plan.publishVia().startsWith("http")
                ? new java.net.InetSocketAddress(plan.api().getHost(), plan.api().getPort())
                : plan.targets().get(0);
        return plan.publishVia().equals("http2")
                ? Http2Publisher.connect(to, plan.apiToken(), stats, plan.transport())
                : PeerPublisher.connect(plan.publishVia(), to, plan.apiToken(), stats);
    }

    void push(long durationNs) {
        Publisher publisher = null;
        if (plan.publishVia() != null) {
            try {
                publisher = openPublisher();
            } catch (IOException e) {
                stats.error("publish: " + BenchConnection.shortMessage(e));
                return;
            }
        }
        try {
            push(durationNs, publisher);
        } finally {
            if (publisher != null) {
                publisher.close();
            }
        }
    }

    private void push(long durationNs, Publisher publisher) {
        Semaphore inFlight = new Semaphore(plan.pushConcurrency());
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
                progress.accept(i * intervalNs < warmupNs ? "warming up" : "pushing");
                nextProgress += 1_000_000_000L;
            }
            // The intended send time goes in the payload: a late send counts against latency (no coordinated
            // omission). Warm-up pushes are marked 'W' and not recorded.
            long intendedMicros = t0Micros + (i * intervalNs) / 1000;
            char kind = i * intervalNs < warmupNs ? 'W' : 'P';
            String id = plan.idPrefix() + (plan.idOffset() + ThreadLocalRandom.current().nextInt(n));
            if (kind == 'P') {
                stats.pushesSentMeasured.increment();
            }
            if (publisher != null) {
                stats.pushesSent.increment();
                try {
                    publisher.publish(id, kind + Long.toString(intendedMicros));
                } catch (IOException e) {
                    stats.pushesFailed.increment();
                    stats.error("publish: " + BenchConnection.shortMessage(e));
                }
                continue;
            }
            HttpRequest req = api.request("/v1/clients/" + id + "/messages")
                    .POST(HttpRequest.BodyPublishers.ofString(kind + Long.toString(intendedMicros))).build();
            // Waiting here delays this and later sends; their latency still counts from the intended time.
            inFlight.acquireUninterruptibly();
            stats.pushesSent.increment();
            api.http().sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((res, err) -> {
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
        progress.accept("pushed");
    }

    /**
     * How long a broadcast may take to reach every client, and its API answer to come: a million clients on 55
     * gateways sharing two cores took 59 s to reach and answered in over 30 s.
     */
    static final long BROADCAST_WAIT_S = 180;

    /**
     * Sends {@code count} broadcasts (through the API, or --publish-via's protocol on a connection of its own), each
     * --broadcast-gap after the one before reached every connected client; returns each one's ms from its request to
     * its last arrival, -1 for one that did not reach them all within {@link #BROADCAST_WAIT_S} (no more are sent
     * after it: its stragglers would be taken for the next one's). An API answer that does not come in that time is
     * counted as the error {@code broadcast_unanswered}; the arrivals are still waited for.
     */
    List<Long> broadcasts(int count) throws InterruptedException {
        long target = stats.open.sum();
        List<Long> lastMs = new ArrayList<>();
        Publisher publisher = null;
        if (plan.publishVia() != null) {
            try {
                publisher = openPublisher();
            } catch (IOException e) {
                // The run's report still comes, with the broadcast as not done and why.
                stats.error("broadcast_failed");
                out.printf("bench: could not open the %s publisher for the broadcast: %s%n", plan.publishVia(), e);
                lastMs.add(-1L);
                return lastMs;
            }
        }
        try {
            for (int i = 0; i < count; i++) {
                if (i > 0) {
                    Thread.sleep(plan.broadcastGap().toMillis());
                }
                long ms = broadcast(target, publisher);
                lastMs.add(ms);
                if (ms < 0) {
                    break;
                }
            }
        } finally {
            if (publisher != null) {
                publisher.close();
            }
        }
        return lastMs;
    }

    /**
     * One broadcast; -1 when it did not reach every client in time, or failed at once: the request could not be made
     * (counted as {@code broadcast_failed}) or was refused (not 2xx, {@code broadcast_refused}), when no arrival is
     * waited for.
     */
    private long broadcast(long target, Publisher publisher) throws InterruptedException {
        // This broadcast's arrivals alone: the last one's are all in (or given up on).
        long receivedBefore = stats.broadcastReceived.sum();
        stats.drainIntervals();
        stats.broadcastTotal.reset();
        long sentMicros = EpochClock.micros();
        long t0 = System.nanoTime();
        String answer;
        try {
            if (publisher != null) {
                publisher.broadcast("B" + sentMicros);
                answer = "(published through " + plan.publishVia() + ")";
            } else {
                HttpResponse<String> r = api.http().send(api.request("/v1/broadcast")
                        .timeout(Duration.ofSeconds(BROADCAST_WAIT_S))
                        .POST(HttpRequest.BodyPublishers.ofString("B" + sentMicros)).build(),
                        HttpResponse.BodyHandlers.ofString());
                answer = r.body().trim();
                if (r.statusCode() / 100 != 2) {
                    stats.error("broadcast_refused");
                    out.printf("bench: broadcast refused: %d %s%n", r.statusCode(), answer);
                    return -1;
                }
            }
        } catch (HttpTimeoutException e) {
            stats.error("broadcast_unanswered");
            answer = "no answer within " + BROADCAST_WAIT_S + " s";
        } catch (IOException e) {
            stats.error("broadcast_failed");
            out.printf("bench: broadcast failed: %s%n", e);
            return -1;
        }
        long apiMs = (System.nanoTime() - t0) / 1_000_000;
        long deadline = t0 + TimeUnit.SECONDS.toNanos(BROADCAST_WAIT_S);
        boolean all = false;
        while (System.nanoTime() < deadline) {
            // Counted, and its latency in the totals (a worker's report may count an arrival before it carries
            // that arrival's latency).
            if (stats.broadcastReceived.sum() - receivedBefore >= target) {
                stats.drainIntervals();
                if (stats.broadcastTotal.getTotalCount() >= target) {
                    all = true;
                    break;
                }
            }
            LockSupport.parkNanos(200_000);
        }
        stats.drainIntervals();
        long maxUs = stats.broadcastTotal.getMaxValue();
        out.printf("bench: broadcast answered %s in %d ms; %d/%d clients received it; last arrival %.1f ms after "
                        + "the request%n", answer, apiMs, stats.broadcastReceived.sum() - receivedBefore, target,
                maxUs / 1000.0);
        return all ? Math.round(maxUs / 1000.0) : -1;
    }
}
