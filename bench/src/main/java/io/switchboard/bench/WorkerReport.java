package io.switchboard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * One line a bench worker process writes to its stdout once a second: cumulative counters, cumulative errors, and
 * the latency histograms of the last interval (HdrHistogram's compressed encoding, base64). Immutable once built;
 * {@link #encode()} and {@link #decode(String)} are inverse.
 *
 * @param phase what the worker is doing (connecting, handshaking, ready, holding, storm, done)
 * @param counters cumulative counter values by name (see {@link #COUNTERS})
 * @param errors cumulative error counts by kind
 * @param intervals latencies recorded since the previous line
 * @param ready the worker's ramp is over (all connected, or it gave up waiting)
 * @param stormDone the worker's storm is over (all back, or its --storm-wait ran out)
 * @param rampStartUs wall-clock microseconds when the worker's ramp began; 0 before
 * @param rampEndUs wall-clock microseconds when the worker's ramp ended (all in, or it gave up); 0 before
 * @param lastWelcomeUs wall-clock microseconds of the worker's latest handshake; 0 before the first
 */
record WorkerReport(String phase, Map<String, Long> counters, Map<String, Long> errors, BenchStats.Intervals intervals,
                    boolean ready, boolean stormDone, long rampStartUs, long rampEndUs, long lastWelcomeUs) {
    /** The counters a worker reports, by their names in the line. */
    static final String[] COUNTERS = {"attempted", "established", "open", "messages", "pings", "broadcast_received",
            "storm_dropped"};
    private static final String[] HISTOGRAMS = {"handshake", "push", "broadcast", "storm_back"};
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads a worker's counters from its stats, in {@link #COUNTERS} order. */
    static Map<String, Long> counters(BenchStats s) {
        long[] v = {s.attempted.sum(), s.established.sum(), s.open.sum(), s.messages.sum(), s.pings.sum(),
                s.broadcastReceived.sum(), s.stormDropped.sum()};
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < COUNTERS.length; i++) {
            m.put(COUNTERS[i], v[i]);
        }
        return m;
    }

    /** Adds {@code delta} to the counter of that name in a parent's stats. */
    static void addCounter(BenchStats s, String name, long delta) {
        if (delta == 0) {
            return;
        }
        switch (name) {
            case "attempted" -> s.attempted.add(delta);
            case "established" -> s.established.add(delta);
            case "open" -> s.open.add(delta);
            case "messages" -> s.messages.add(delta);
            case "pings" -> s.pings.add(delta);
            case "broadcast_received" -> s.broadcastReceived.add(delta);
            case "storm_dropped" -> s.stormDropped.add(delta);
            default -> { } // a newer worker's counter: nothing to add it to
        }
    }

    /**
     * Folds one worker's successive reports into a parent's stats: counters and errors by their difference with
     * the worker's previous report, interval histograms added, the latest handshake time kept. One per worker, used
     * by one thread.
     */
    static final class Merger {
        private final Map<String, Long> lastCounters = new LinkedHashMap<>();
        private final Map<String, Long> lastErrors = new LinkedHashMap<>();
        private long lastWelcomeUs;

        void apply(WorkerReport r, BenchStats into) {
            r.counters().forEach((name, value) -> {
                addCounter(into, name, value - lastCounters.getOrDefault(name, 0L));
                lastCounters.put(name, value);
            });
            r.errors().forEach((kind, value) -> {
                into.error(kind, value - lastErrors.getOrDefault(kind, 0L));
                lastErrors.put(kind, value);
            });
            into.addIntervals(r.intervals());
            if (r.lastWelcomeUs() > lastWelcomeUs) {
                lastWelcomeUs = r.lastWelcomeUs();
                into.lastWelcomeNs.accumulateAndGet(WorkerFleet.toNanoTime(lastWelcomeUs), Math::max);
            }
        }

        /** The worker is gone: its connections no longer count as open. */
        void lost(BenchStats into) {
            addCounter(into, "open", -lastCounters.getOrDefault("open", 0L));
            lastCounters.put("open", 0L);
        }
    }

    String encode() {
        ObjectNode n = JSON.createObjectNode().put("phase", phase).put("ready", ready).put("storm_done", stormDone)
                .put("ramp_start_us", rampStartUs).put("ramp_end_us", rampEndUs)
                .put("last_welcome_us", lastWelcomeUs);
        ObjectNode c = n.putObject("counters");
        counters.forEach(c::put);
        ObjectNode e = n.putObject("errors");
        errors.forEach(e::put);
        Histogram[] h = histograms(intervals);
        for (int i = 0; i < h.length; i++) {
            if (h[i].getTotalCount() > 0) {
                n.put(HISTOGRAMS[i], encode(h[i]));
            }
        }
        return n.toString();
    }

    /** Parses a line; throws IllegalArgumentException when it is not a worker report. */
    static WorkerReport decode(String line) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("not a worker report: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject() || !n.has("counters")) {
            throw new IllegalArgumentException("not a worker report (no counters)");
        }
        Map<String, Long> counters = longs(n.path("counters"));
        Map<String, Long> errors = longs(n.path("errors"));
        Histogram[] h = new Histogram[HISTOGRAMS.length];
        for (int i = 0; i < h.length; i++) {
            JsonNode v = n.get(HISTOGRAMS[i]);
            h[i] = v == null ? new Histogram(3) : decodeHistogram(v.asText());
        }
        return new WorkerReport(n.path("phase").asText("?"), counters, errors,
                new BenchStats.Intervals(h[0], h[1], h[2], h[3]), n.path("ready").asBoolean(),
                n.path("storm_done").asBoolean(), n.path("ramp_start_us").asLong(), n.path("ramp_end_us").asLong(),
                n.path("last_welcome_us").asLong());
    }

    /**
     * A histogram's compressed base64 form. It is copied first: an interval histogram of a {@code Recorder} that
     * two event loops resized at once can name a highest trackable value below its largest count (HdrHistogram
     * 2.2.2; seen once in 20,000 rounds of two threads recording growing values: HTV 16,777,215, max 3,579,838,463),
     * and its encoding then does not decode ("Index 12291 out of bounds for length 12288" in a 1M run). The copy,
     * filled by one thread, is sized by the counts it holds.
     */
    static String encode(Histogram recorded) {
        Histogram h = new Histogram(3);
        h.add(recorded);
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int length = h.encodeIntoCompressedByteBuffer(buf);
        return Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), length));
    }

    static Histogram decodeHistogram(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (DataFormatException | RuntimeException e) {
            throw new IllegalArgumentException("bad histogram in worker report: " + e.getMessage());
        }
    }

    private static Histogram[] histograms(BenchStats.Intervals i) {
        return new Histogram[] {i.handshake(), i.push(), i.broadcast(), i.stormBack()};
    }

    private static Map<String, Long> longs(JsonNode obj) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : obj.properties()) {
            m.put(f.getKey(), f.getValue().asLong());
        }
        return m;
    }
}
