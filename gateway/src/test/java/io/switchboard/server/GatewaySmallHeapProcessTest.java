package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A gateway process with a 96 MiB heap and the default {@code --max-queued-total} (a quarter of it) takes 3,000
 * stored pushes of 60 KB to 200 offline clients, about twice what the heap holds: it answers 503 beyond the budget
 * instead of running out of memory, and keeps answering. {@code -XX:+ExitOnOutOfMemoryError} makes an OOM a dead
 * process, which the test would see.
 */
@Timeout(120)
class GatewaySmallHeapProcessTest {
    private static final Pattern API = Pattern.compile("backend API on http://127\\.0\\.0\\.1:(\\d+)");

    @Test
    void shouldRefuseStoredPushesBeyondTheBudgetInsteadOfRunningOutOfHeap() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx96m", "-XX:+ExitOnOutOfMemoryError", "-XX:+UseCompactObjectHeaders",
                "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ServerMain.class.getName(),
                "--bind", "127.0.0.1", "--port", "0", "--api-port", "0", "--event-loops", "2");
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        try {
            int apiPort = apiPort(server, output);
            try (ApiClient api = new ApiClient(apiPort, null)) {
                byte[] payload = new byte[60_000];
                int accepted = 0;
                int refused = 0;
                for (int i = 0; i < 3000; i++) {
                    ApiClient.Response r = api.post("/v1/clients/offline" + (i % 200) + "/messages?ttl=3600", payload);
                    if (r.status() == 200) {
                        accepted++;
                    } else {
                        assertEquals(503, r.status(), r.body());
                        assertTrue(r.body().contains("--max-queued-total"), r.body());
                        refused++;
                    }
                }
                assertTrue(accepted > 100 && refused > 1000, accepted + " accepted, " + refused + " refused");
                assertTrue(server.isAlive(), "the server is alive\n" + output);
                assertEquals(200, api.get("/healthz").status());
                JsonNode stats = api.get("/v1/stats").json();
                long budget = stats.get("max_queued_total_bytes").asLong();
                assertTrue(budget > 0 && budget <= (96L << 20) / 4, stats.toString());
                assertEquals(accepted * 60_000L, stats.get("queued_bytes").asLong(), stats.toString());
                assertEquals(refused, stats.path("refusals").path("queued_total").asLong(), stats.toString());
            }
        } finally {
            server.destroy(); // SIGTERM: a drain without clients ends at once
            if (!server.waitFor(20, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** Reads the banner up to the API's port, then drains the rest of the output on a daemon thread. */
    private static int apiPort(Process server, StringBuilder output) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        for (int i = 0; i < 100; i++) {
            String line = out.readLine();
            if (line == null) {
                fail("the server exited before announcing its API:\n" + output);
            }
            output.append(line).append('\n');
            Matcher m = API.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        for (String l = out.readLine(); l != null; l = out.readLine()) {
                            synchronized (output) {
                                output.append(l).append('\n');
                            }
                        }
                    } catch (java.io.IOException e) {
                        // the process ended
                    }
                }, "server-output");
                drain.setDaemon(true);
                drain.start();
                return Integer.parseInt(m.group(1));
            }
        }
        return fail("no API line in the first 100 lines:\n" + output);
    }
}
