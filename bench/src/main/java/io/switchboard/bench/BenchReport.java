package io.switchboard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.bench.BenchApi.ServerReading;
import io.switchboard.bench.BenchRun.Sample;
import io.switchboard.bench.BenchRun.StormResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * What a run (not a worker) shows and keeps: a progress line and timeline sample per second, the final report
 * table, and the same figures as JSON (--json) and HTML (--html). Confined to the run's calling thread.
 */
final class BenchReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BenchRun.Plan plan;
    private final PrintWriter out;
    private final BenchStats stats;
    private final long startNs;
    private long lastProgressNs;
    private final ObjectNode report = JSON.createObjectNode();
    private final List<Sample> timeline = new ArrayList<>();
    private final List<HtmlReport.Row> rows = new ArrayList<>();

    /** Handshakes at the end of the ramp; later ones are reconnections. -1 during the ramp. */
    private long rampEstablished = -1;
    private ListenCounters rampListen = ListenCounters.UNKNOWN;
    private Histogram rampHandshakes;
    private StormResult stormResult;

    BenchReport(BenchRun.Plan plan, PrintWriter out, BenchStats stats, long startNs) {
        this.plan = plan;
        this.out = out;
        this.stats = stats;
        this.startNs = startNs;
        this.lastProgressNs = startNs;
    }

    void baseline(ServerReading before) {
        report.set("baseline", before.toJson());
    }

    void loaded(ServerReading after) {
        report.set("loaded", after.toJson());
    }

    /** The ramp is over: {@code established} handshakes, with these accept-queue drops on the host. */
    void rampDone(long established, ListenCounters listen) {
        rampEstablished = established;
        rampListen = listen;
    }

    /** The ramp's handshake latencies, kept apart from later (storm) reconnections. */
    void rampHandshakes(Histogram handshakes) {
        rampHandshakes = handshakes;
    }

    void stormDone(StormResult result) {
        stormResult = result;
    }

    /** One progress line (and timeline sample) of a run that is not a worker; {@code fleet} null without workers. */
    void progress(String phase, WorkerFleet fleet) {
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

    private ArrayNode timelineJson() {
        ArrayNode a = JSON.createArrayNode();
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

    /** The median of {@code ms} (the upper one of an even count); -1 when empty or when one did not arrive. */
    static long median(List<Long> ms) {
        if (ms.isEmpty() || ms.contains(-1L)) {
            return -1;
        }
        List<Long> sorted = ms.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    /** Handshakes per second while some worker ramped (their start-up gaps left out); -1: not measured. */
    private double rampingRate = -1;

    void rampingRate(double perSec) {
        this.rampingRate = perSec;
    }

    void print(long established, double rampSec, double handshakeRate, ServerReading before,
                      ServerReading after, ServerReading end, long slabBefore, long slabAfter,
                      List<Long> broadcastMs) {
        out.println();
        out.println("== switchboard bench report");
        row("connections established", established + " / " + plan.connections());
        row("ramp", String.format("%.1f s at --rate %d/s", rampSec, plan.rate()));
        row("handshake rate (first connect to last WELCOME)", String.format("%.0f /s", handshakeRate));
        if (rampingRate > 0) {
            row("handshake rate while workers ramp (gaps between them left out)", String.format("%.0f /s",
                    rampingRate));
            report.put("handshakes_per_s_ramping", rampingRate);
        }
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
            long sessions = after.sessions() - Math.max(0, before.sessions());
            perClient("server heap per client (after full GC)", "server_heap_per_client_bytes",
                    PerClient.of(before.heapBytes(), after.heapBytes(), sessions));
            perClient("server RSS per client", "server_rss_per_client_bytes",
                    PerClient.of(before.rssBytes(), after.rssBytes(), sessions));
        }
        if (before.pidRssBytes() >= 0 && after.pidRssBytes() >= 0) {
            perClient("server processes RSS per client", "server_pids_rss_per_client_bytes",
                    PerClient.of(before.pidRssBytes(), after.pidRssBytes(), established));
            // Read again at the end of the hold: right after the ramp the JIT compilers' freed arenas (trimmed
            // every 2 s) and the ramp's garbage are still in the RSS; an idle session's cost is what stays.
            if (end.pidRssBytes() >= 0) {
                perClient("server processes RSS per client, end of hold", "server_pids_rss_per_client_end_bytes",
                        PerClient.of(before.pidRssBytes(), end.pidRssBytes(), stats.open.sum()));
            }
        }
        if (slabBefore > 0 && slabAfter > 0) {
            perClient("kernel slab per connection (both ends)", "kernel_slab_per_connection_both_ends_bytes",
                    PerClient.of(slabBefore, slabAfter, established));
        }
        if (stats.pushesSent.sum() > 0) {
            // Sent after the warm-up and neither failed nor received by the end: lost, or still queued when the run
            // ended; the percentiles are of those received only, so this says what they leave out (failed warm-up
            // pushes are subtracted too: at worst it says too few). Also when none arrived at all.
            long received = stats.pushTotal.getTotalCount();
            long lost = Math.max(0, stats.pushesSentMeasured.sum() - stats.pushesFailed.sum() - received);
            row("pushes sent / failed / measured (after warm-up) / not received", stats.pushesSent.sum() + " / "
                    + stats.pushesFailed.sum() + " / " + received + " / " + lost);
            report.put("pushes_not_received", lost);
        }
        if (stats.pushTotal.getTotalCount() > 0) {
            Histogram h = stats.pushTotal;
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
            long first = broadcastMs.isEmpty() ? -1 : broadcastMs.get(0);
            // The median of those after the warm-up; one that did not arrive (and ended the series) counts as -1.
            List<Long> measured = broadcastMs.size() < plan.broadcasts() ? List.of(-1L)
                    : broadcastMs.subList(plan.broadcastWarmup(), broadcastMs.size());
            long median = median(measured);
            String firstText = first < 0 ? "not all arrived within " + PushDriver.BROADCAST_WAIT_S + " s" : first + " ms";
            row("broadcast to all, last arrival", plan.broadcasts() <= 1
                    ? firstText + " (" + stats.broadcastReceived.sum() + " clients)"
                    : "first " + firstText + ", median of " + measured.size() + " "
                    + (plan.broadcastWarmup() > 0 ? "after " + plan.broadcastWarmup() + " not counted " : "")
                    + (median < 0 ? "not all arrived within " + PushDriver.BROADCAST_WAIT_S + " s" : median + " ms") + " ("
                    + stats.broadcastReceived.sum() + " receipts)");
            report.put("broadcast_last_arrival_ms", first).put("broadcast_median_last_arrival_ms", median)
                    .put("broadcast_received", stats.broadcastReceived.sum());
            ArrayNode each = report.putArray("broadcasts_last_arrival_ms");
            broadcastMs.forEach(each::add);
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

    /** Writes the --json and --html files that were asked for. */
    void writeFiles() throws IOException {
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
    }

    /** A per-client row; in the JSON the figure, or null and the reason under {@code key + "_note"}. */
    private void perClient(String name, String key, PerClient per) {
        row(name, per.text());
        if (per.known()) {
            report.put(key, per.bytes());
        } else {
            report.putNull(key).put(key + "_note", per.reason());
        }
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
}
