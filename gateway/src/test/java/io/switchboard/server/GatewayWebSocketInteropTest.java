package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real WebSocket clients nobody here wrote: headless Chromium running a page that speaks SWB/1 over a browser
 * WebSocket, and the Python paho client speaking MQTT 5 over WebSocket. Skipped where they are not installed
 * (.ci/run installs chromium and python3-paho-mqtt).
 */
@Timeout(90)
class GatewayWebSocketInteropTest {
    private final GatewayFixture gw = new GatewayFixture();
    @TempDir
    Path tmp;

    @AfterEach
    void close() {
        gw.close();
    }

    private static boolean installed(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Deletes a directory tree, leaving whatever cannot be deleted (a leftover in /tmp is no test failure). */
    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException e) {
            // best effort
        }
    }

    private static String chromium() {
        for (String c : List.of("chromium", "chromium-browser", "google-chrome")) {
            if (installed("which", c)) {
                return c;
            }
        }
        return null;
    }

    private boolean online(String id) {
        try {
            ApiClient.Response r = gw.api().get("/v1/clients/" + id);
            return r.status() == 200 && r.json().get("online").asBoolean();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The page: connects to /swb, says HELLO, and for each MSG acknowledges it and subscribes to got.PAYLOAD. */
    private static final String PAGE = """
            <!doctype html><title>switchboard browser test</title><pre id="log"></pre><script>
            const log = (s) => document.getElementById("log").textContent += s + "\\n";
            const ws = new WebSocket("ws://127.0.0.1:" + location.hash.substring(1) + "/swb", "swb");
            ws.binaryType = "arraybuffer";
            let buffered = "";
            ws.onopen = () => ws.send("HELLO browser\\n");
            ws.onmessage = (e) => {
              buffered += typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data);
              let m;
              while ((m = buffered.match(/^MSG (\\d+) (\\d+)\\n/))) {
                const start = m[0].length, len = Number(m[2]);
                if (buffered.length < start + len + 1) break;
                const payload = buffered.substring(start, start + len);
                buffered = buffered.substring(start + len + 1);
                ws.send("ACK " + m[1] + "\\n");
                ws.send("SUB got." + payload + "\\n");
                log("got " + payload);
              }
              const nl = buffered.indexOf("\\n");
              if (nl >= 0 && !buffered.startsWith("MSG ")) { log(buffered.substring(0, nl)); buffered = buffered.substring(nl + 1); }
            };
            ws.onclose = (e) => log("closed " + e.code);
            </script>
            """;

    @Test
    void headlessChromiumReceivesAPushOverSwbOnWebSocket() throws Exception {
        String chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "chromium not installed (apt-get install chromium)");
        HttpServer pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] page = PAGE.getBytes(StandardCharsets.UTF_8);
        pages.createContext("/", x -> {
            x.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
            x.sendResponseHeaders(200, page.length);
            x.getResponseBody().write(page);
            x.close();
        });
        pages.start();
        Process browser = null;
        // Chromium's helper processes may still write into the profile after the browser exits: it lives outside
        // the JUnit temporary directory (whose cleanup fails the test on a file written meanwhile), deleted after.
        Path profile = Files.createTempDirectory("swb-chromium-profile");
        try {
            String origin = "http://127.0.0.1:" + pages.getAddress().getPort();
            gw.config.wsPort = 0;
            gw.config.wsAllowedOrigins = origin; // a page from another port is another origin
            gw.start();
            browser = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + profile,
                    "--remote-debugging-port=0", origin + "/#" + gw.server().wsPort())
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("chromium.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!online("browser")) {
                assertTrue(System.nanoTime() < deadline && browser.isAlive(), "the browser's client came online; "
                        + "chromium said: " + Files.readString(tmp.resolve("chromium.log")));
                Thread.sleep(100);
            }
            assertEquals("swb-ws", gw.api().get("/v1/clients/browser").json().get("protocol").asText());
            ApiClient.Response pushed = gw.api().post("/v1/clients/browser/messages?ttl=60", "hello-from-the-api");
            assertEquals(200, pushed.status(), pushed.body());
            // The page subscribed to got.<what it received>: a topic push there reaches exactly one subscriber.
            GatewayFixture.await(() -> {
                try {
                    return gw.api().post("/v1/topics/got.hello-from-the-api/messages", "x").json()
                            .get("delivered").asInt() == 1;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "the page received the push and said so");
            GatewayFixture.await(() -> {
                try {
                    return gw.api().get("/v1/clients/browser").json().get("queued").asInt() == 0;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "the page acknowledged the stored push");
        } finally {
            if (browser != null) {
                List<ProcessHandle> all = new java.util.ArrayList<>(browser.descendants().toList());
                all.add(browser.toHandle());
                all.forEach(ProcessHandle::destroyForcibly);
                for (ProcessHandle h : all) {
                    h.onExit().get(10, TimeUnit.SECONDS);
                }
            }
            pages.stop(0);
            deleteQuietly(profile);
        }
    }

    @Test
    void pahoSpeaksMqtt5OverWebSocket() throws Exception {
        String python = GatewayMqttInteropTest.pahoPython();
        gw.config.wsPort = 0;
        gw.start();
        Path script = tmp.resolve("client.py");
        Files.writeString(script, """
                import sys, time, paho.mqtt.client as mqtt
                port = int(sys.argv[1]); got = []
                def on_connect(c, u, f, rc, props=None):
                    c.subscribe("alerts/+", qos=1)
                def on_subscribe(c, u, mid, granted, props=None):
                    print("subscribed", flush=True)
                def on_message(c, u, m):
                    got.append("%s %d %s" % (m.topic, m.qos, m.payload.decode()))
                try:
                    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="paho-ws", protocol=mqtt.MQTTv5,
                                    transport="websockets")
                except AttributeError:
                    c = mqtt.Client(client_id="paho-ws", protocol=mqtt.MQTTv5, transport="websockets")
                c.ws_set_options(path="/mqtt")
                c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
                c.connect("127.0.0.1", port, 30)
                c.loop_start()
                deadline = time.time() + 15
                while len(got) < 2 and time.time() < deadline:
                    time.sleep(0.05)
                time.sleep(0.3)
                print("\\n".join(got), flush=True)
                c.disconnect(); c.loop_stop()
                """);
        Process paho = new ProcessBuilder(python, script.toString(), Integer.toString(gw.server().wsPort()))
                .redirectErrorStream(true).start();
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                paho.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("subscribed", out.readLine());
        assertEquals("mqtt-ws", gw.api().get("/v1/clients/paho-ws").json().get("protocol").asText());
        assertEquals(1, gw.api().post("/v1/topics/alerts%2Fdisk/messages", "full").json().get("delivered").asInt());
        gw.api().post("/v1/clients/paho-ws/messages?ttl=600", "direct");
        assertTrue(paho.waitFor(20, TimeUnit.SECONDS), "paho finished");
        assertEquals(List.of("alerts/disk 0 full", "push/paho-ws 1 direct"), out.lines().toList());
        assertEquals(0, paho.exitValue());
    }
}
