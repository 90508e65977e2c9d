package io.switchboard.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code switchboard push-load}: pushes through the backend API as fast as the server answers, from a fixed number
 * of keep-alive connections that each wait for an answer before the next request (a closed loop, so the rate is the
 * server's), and reports pushes per second, answer latency percentiles and statuses. With {@code --ttl} the pushes
 * are stored (to offline clients: nobody needs to be connected), which is what the store benchmark measures; with
 * {@code --batch} each request carries that many messages ({@code POST /v1/messages}), the quick way to fill a
 * store. Exit 0 when every answer was 200, 1 otherwise, 2 on bad input.
 */
@Command(name = "push-load", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Push through the API as fast as it answers (closed loop) and report the rate, the answer "
                + "latency and the statuses.",
                "Stored pushes (--ttl > 0) go to clients that need not be connected: the way to measure a store."})
public final class PushLoadCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--api", description = "The server's API, HOST:PORT.")
    String api = "127.0.0.1:8080";
    @Option(names = "--api-token", description = "Bearer token for --api.")
    String apiToken;
    @Option(names = "--connections", description = "API connections, each with one request in flight.")
    int connections = 16;
    @Option(names = "--clients", description = "Client ids pushed to, in turn: PREFIX0 .. PREFIX<n-1>.")
    int clients = 10_000;
    @Option(names = "--id-prefix", description = "Client ids are PREFIX<n>.")
    String idPrefix = "store";
    @Option(names = "--ttl", description = "Seconds each message is stored for; 0 pushes only to connected clients.")
    int ttl = 3600;
    @Option(names = "--payload", description = "Payload bytes per message.")
    int payloadBytes = 100;
    @Option(names = "--batch", description = "Messages per request: 1 posts to /v1/clients/{id}/messages, more "
            + "post a batch to /v1/messages.")
    int batch = 1;
    @Option(names = "--duration", description = "How long to push after the warm-up (500ms, 10s, 5m); 0 = until "
            + "--count.")
    String durationText = "10s";
    @Option(names = "--warmup", description = "Pushes first, not measured (JIT, the server's and this one's).")
    String warmupText = "2s";
    @Option(names = "--count", description = "Stop after this many messages (0 = no limit), warm-up included.")
    long limit;
    @Option(names = "--json", description = "Also write the figures as one JSON object to this file.")
    java.nio.file.Path json;

    /** Messages the server accepted (a 200 single push, or a batch answer's "accepted"). */
    private final LongAdder messages = new LongAdder();
    /** Messages of a batch answered 200 that the server refused item by item (its answer's "refused"). */
    private final LongAdder refusedInBatches = new LongAdder();
    private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    private final AtomicLong issued = new AtomicLong();
    private volatile boolean measuring;
    private volatile boolean stopping;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Duration duration;
        Duration warmup;
        try {
            duration = BenchArgs.duration(durationText);
            warmup = BenchArgs.duration(warmupText);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("push-load: " + e.getMessage());
            return 2;
        }
        if (connections < 1 || clients < 1 || batch < 1 || payloadBytes < 0 || ttl < 0) {
            spec.commandLine().getErr().println("push-load: --connections, --clients and --batch must be at least 1, "
                    + "--payload and --ttl not negative");
            return 2;
        }
        InetSocketAddress address;
        try {
            List<InetSocketAddress> targets = BenchArgs.targets(api);
            if (targets.size() != 1 || api.contains("/")) {
                throw new IllegalArgumentException("--api '" + api + "' must be one HOST:PORT");
            }
            address = targets.get(0);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("push-load: " + e.getMessage().replace("--target", "--api")
                    + " (such as 127.0.0.1:8080, no http://)");
            return 2;
        }
        List<Worker> workers = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            workers.add(new Worker(address, i));
        }
        long startNs = System.nanoTime();
        workers.forEach(Thread::start);
        long measureStart = startNs;
        if (!warmup.isZero()) {
            sleepUntil(startNs + warmup.toNanos());
            measureStart = System.nanoTime();
        }
        measuring = true;
        long measuredBefore = messages.sum();
        long end = duration.isZero() ? Long.MAX_VALUE : measureStart + duration.toNanos();
        long nextProgress = measureStart + 1_000_000_000L;
        while (System.nanoTime() < end && workers.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(50);
            if (System.nanoTime() >= nextProgress) {
                nextProgress += 1_000_000_000L;
                spec.commandLine().getErr().printf("push-load: %,d messages%n", messages.sum());
            }
        }
        stopping = true;
        long measureEnd = System.nanoTime();
        long measured = messages.sum() - measuredBefore;
        for (Worker w : workers) {
            w.join(30_000);
        }
        long[] lat = merge(workers);
        double seconds = (measureEnd - measureStart) / 1e9;
        double rate = measured / seconds;
        String statusText = new TreeMap<>(statuses).toString();
        out.printf(Locale.ROOT, "push-load: %,d messages in %.1f s measured = %,.0f messages/s (%d connections, "
                        + "batch %d, ttl %d, %d-byte payloads)%n", measured, seconds, rate, connections, batch, ttl,
                payloadBytes);
        out.printf(Locale.ROOT, "push-load: answer latency p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms "
                        + "(%,d requests)%n", pct(lat, 50), pct(lat, 99), pct(lat, 99.9),
                lat.length == 0 ? 0 : lat[lat.length - 1] / 1e6, lat.length);
        out.println("push-load: statuses " + statusText + (batch > 1 ? String.format(Locale.ROOT,
                "; %,d messages refused inside batches answered 200 (not counted above)", refusedInBatches.sum())
                : ""));
        out.flush();
        if (json != null) {
            java.nio.file.Files.writeString(json, String.format(Locale.ROOT, "{\"messages\":%d,\"seconds\":%.3f,"
                            + "\"messages_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
                            + "\"requests\":%d,\"non_200\":%d,\"refused_in_batches\":%d}%n", measured, seconds,
                    rate, pct(lat, 50), pct(lat, 99), pct(lat, 99.9), lat.length, non200(), refusedInBatches.sum()));
        }
        return non200() == 0 && refusedInBatches.sum() == 0 ? 0 : 1;
    }

    private long non200() {
        return statuses.entrySet().stream().filter(e -> e.getKey() != 200).mapToLong(e -> e.getValue().sum()).sum();
    }

    private static void sleepUntil(long ns) throws InterruptedException {
        long left;
        while ((left = ns - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, left / 1_000_000));
        }
    }

    private static long[] merge(List<Worker> workers) {
        int n = 0;
        for (Worker w : workers) {
            n += w.samples;
        }
        long[] all = new long[n];
        int at = 0;
        for (Worker w : workers) {
            System.arraycopy(w.latencies, 0, all, at, w.samples);
            at += w.samples;
        }
        Arrays.sort(all);
        return all;
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1);
        return sorted[Math.max(0, i)] / 1e6;
    }

    /** One keep-alive connection with one request in flight; records the latency of measured answers. */
    private final class Worker extends Thread {
        private final InetSocketAddress address;
        private final int index;
        long[] latencies = new long[1 << 16];
        int samples;

        Worker(InetSocketAddress address, int index) {
            super("push-load-" + index);
            this.address = address;
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            byte[] payload = "p".repeat(payloadBytes).getBytes(StandardCharsets.US_ASCII);
            try (Socket s = new Socket()) {
                s.setTcpNoDelay(true);
                s.connect(address, 5000);
                s.setSoTimeout(30_000);
                OutputStream o = s.getOutputStream();
                InputStream in = new BufferedInputStream(s.getInputStream(), 65536);
                while (!stopping) {
                    long first = issued.getAndAdd(batch);
                    if (limit > 0 && first >= limit) {
                        break;
                    }
                    byte[] request = request(first, payload);
                    long t0 = System.nanoTime();
                    o.write(request);
                    String[] answer = new String[1];
                    int status = readResponse(in, batch > 1 ? answer : null);
                    long took = System.nanoTime() - t0;
                    statuses.computeIfAbsent(status, k -> new LongAdder()).increment();
                    if (status == 200) {
                        long accepted = batch == 1 ? 1 : Math.max(0, jsonCount(answer[0], "accepted"));
                        messages.add(accepted);
                        refusedInBatches.add(batch - accepted);
                    }
                    if (measuring) {
                        if (samples == latencies.length) {
                            latencies = Arrays.copyOf(latencies, samples * 2);
                        }
                        latencies[samples++] = took;
                    }
                }
            } catch (IOException e) {
                statuses.computeIfAbsent(-1, k -> new LongAdder()).increment();
                spec.commandLine().getErr().println("push-load: connection " + index + ": " + e);
            }
        }

        private byte[] request(long first, byte[] payload) {
            String head;
            byte[] body;
            if (batch == 1) {
                String id = idPrefix + (first % clients);
                body = payload;
                head = "POST /v1/clients/" + id + "/messages?ttl=" + ttl + " HTTP/1.1\r\n";
            } else {
                StringBuilder sb = new StringBuilder(batch * (payloadBytes + 48)).append("{\"messages\":[");
                String text = new String(payload, StandardCharsets.US_ASCII);
                for (int i = 0; i < batch; i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    sb.append("{\"client\":\"").append(idPrefix).append((first + i) % clients)
                            .append("\",\"payload\":\"").append(text).append("\",\"ttl\":").append(ttl).append('}');
                }
                body = sb.append("]}").toString().getBytes(StandardCharsets.US_ASCII);
                head = "POST /v1/messages HTTP/1.1\r\nContent-Type: application/json\r\n";
            }
            StringBuilder h = new StringBuilder(head).append("Host: ").append(api).append("\r\n");
            if (apiToken != null) {
                h.append("Authorization: Bearer ").append(apiToken).append("\r\n");
            }
            h.append("Content-Length: ").append(body.length).append("\r\n\r\n");
            byte[] hb = h.toString().getBytes(StandardCharsets.US_ASCII);
            byte[] all = Arrays.copyOf(hb, hb.length + body.length);
            System.arraycopy(body, 0, all, hb.length, body.length);
            return all;
        }
    }

    /** The number after {@code "name":} in a JSON text; -1 when there is none. */
    static long jsonCount(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\"\\s*:\\s*(\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * Reads one HTTP/1.1 response (status line, headers, a Content-Length body); returns its status, and its body in
     * {@code body[0]} when {@code body} is not null (else the body is skipped).
     */
    static int readResponse(InputStream in, String[] body) throws IOException {
        String status = line(in);
        if (status == null || !status.startsWith("HTTP/1.1 ")) {
            throw new IOException("not an HTTP/1.1 answer: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        int length = 0;
        for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            if (colon > 0 && h.substring(0, colon).equalsIgnoreCase("content-length")) {
                length = Integer.parseInt(h.substring(colon + 1).trim());
            }
        }
        if (body != null) {
            body[0] = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        } else if (length > 0) {
            in.skipNBytes(length);
        }
        return code;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                return sb.isEmpty() ? null : sb.toString();
            }
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }
}
