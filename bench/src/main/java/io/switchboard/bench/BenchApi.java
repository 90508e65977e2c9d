package io.switchboard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.process.ProcFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The gateway's HTTP API as the bench uses it (requests with the bearer token), and readings of the server's
 * cost: its own stats, the RSS of given server processes, the kernel's slab. Thread-safe (the JDK client is).
 */
final class BenchApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BenchRun.Plan plan;
    private final PrintWriter out;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    BenchApi(BenchRun.Plan plan, PrintWriter out) {
        this.plan = plan;
        this.out = out;
    }

    HttpClient http() {
        return http;
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(plan.api().resolve(path)).timeout(Duration.ofSeconds(30));
        if (plan.apiToken() != null) {
            b.header("Authorization", "Bearer " + plan.apiToken());
        }
        return b;
    }

    record ServerReading(long heapBytes, long rssBytes, long sessions, long pidRssBytes) {
        ObjectNode toJson() {
            return JSON.createObjectNode().put("heap_used_bytes", heapBytes).put("rss_bytes", rssBytes)
                    .put("sessions_online", sessions).put("server_pids_rss_bytes", pidRssBytes);
        }
    }

    ServerReading readServer(boolean gc) {
        long heap = -1;
        long rss = -1;
        long sessions = -1;
        if (plan.api() != null) {
            HttpRequest req = request("/v1/stats" + (gc ? "?gc=true" : "")).GET().build();
            try {
                HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
                JsonNode n = JSON.readTree(res.body());
                heap = n.path("memory").path("heap_used_bytes").asLong(-1);
                rss = n.path("memory").path("rss_bytes").asLong(-1);
                sessions = n.path("sessions_online").asLong(-1);
            } catch (IOException e) {
                out.println(unreadable(req.uri(), e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long pidRss = 0;
        for (long pid : plan.serverPids()) {
            long one = ProcFiles.rssBytes(Long.toString(pid));
            if (one < 0) {
                // A server that died (or whose /proc cannot be read) counted as 0 B made the sum, and the figure
                // per client, smaller: no figure instead.
                out.println("bench: server pid " + pid + " is gone (or /proc/" + pid + " unreadable): no server RSS "
                        + "figure from this reading");
                pidRss = -1;
                break;
            }
            pidRss += one;
        }
        return new ServerReading(heap, rss, sessions, plan.serverPids().isEmpty() ? -1 : pidRss);
    }

    /** The line for a failed read: the URL as requested, and the exception's class when it has no message. */
    static String unreadable(URI uri, Exception e) {
        String why = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getName()
                : e.getClass().getSimpleName() + ": " + e.getMessage();
        return "bench: could not read " + uri + ": " + why;
    }

    static long slabBytes() {
        return ProcFiles.meminfoBytes("Slab:");
    }
}
