package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
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
 * Real MQTT clients against the gateway's MQTT listener: mosquitto_sub and mosquitto_pub (3.1.1 and 5) and the
 * Python paho client (5). Skipped where they are not installed (.ci/run installs mosquitto-clients and
 * python3-paho-mqtt).
 */
@Timeout(60)
class GatewayMqttInteropTest {
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
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /**
     * A python3 with paho (Debian's, where apt-get puts it, else the first on the PATH); skips the test when none
     * has it.
     */
    static String pahoPython() {
        String python = installed("/usr/bin/python3", "-c", "import paho.mqtt.client") ? "/usr/bin/python3" : "python3";
        Assumptions.assumeTrue(installed(python, "-c", "import paho.mqtt.client"),
                "paho not installed (apt-get install python3-paho-mqtt)");
        return python;
    }

    private void awaitOnline(String id) {
        GatewayFixture.await(() -> {
            try {
                ApiClient.Response r = gw.api().get("/v1/clients/" + id);
                return r.status() == 200 && r.json().get("online").asBoolean();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, id + " online");
    }

    private static String finish(Process p) throws Exception {
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the client finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void mosquittoClientsReceivePushesAndPublishToSwbSubscribers() throws Exception {
        Assumptions.assumeTrue(installed("mosquitto_sub", "--help") || installed("which", "mosquitto_sub"),
                "mosquitto_sub not installed (apt-get install mosquitto-clients)");
        gw.config.mqttPort = 0;
        gw.start();
        String port = Integer.toString(gw.server().mqttPort());
        for (String version : List.of("mqttv311", "mqttv5")) {
            String id = "mosq-" + version;
            Process sub = new ProcessBuilder("mosquitto_sub", "-V", version, "-h", "127.0.0.1", "-p", port,
                    "-i", id, "-q", "1", "-t", "push/" + id, "-C", "2").redirectErrorStream(true).start();
            awaitOnline(id);
            gw.api().post("/v1/clients/" + id + "/messages?ttl=3600", "stored one");
            gw.api().post("/v1/clients/" + id + "/messages", "live one");
            assertEquals("stored one\nlive one\n", finish(sub), version);
        }
        SwbTestClient swb = gw.hello("reader");
        swb.send("SUB news");
        swb.expectLine("OK SUB news");
        finish(new ProcessBuilder("mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", port, "-i", "pub",
                "-q", "1", "-t", "news", "-m", "from mosquitto").redirectErrorStream(true).start());
        assertEquals("from mosquitto", swb.readMsg().text());
    }

    @Test
    void mosquittoQos2PublishesArriveOnceAndAPersistentSessionGetsWhatWasPushedWhileAway() throws Exception {
        Assumptions.assumeTrue(installed("which", "mosquitto_sub"),
                "mosquitto_sub not installed (apt-get install mosquitto-clients)");
        gw.config.mqttPort = 0;
        gw.start();
        String port = Integer.toString(gw.server().mqttPort());
        SwbTestClient swb = gw.hello("listener");
        swb.send("SUB alerts");
        swb.expectLine("OK SUB alerts");
        finish(new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", "q2", "-q", "2",
                "-t", "alerts", "-m", "exactly once").redirectErrorStream(true).start());
        assertEquals("exactly once", swb.readMsg().text());
        swb.sync(); // and nothing more

        // A persistent session (-c, QoS 1): subscribed once, away while a stored push arrives, then back.
        Process first = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-i", "persistent",
                "-c", "-q", "1", "-t", "push/persistent", "-C", "1").redirectErrorStream(true).start();
        awaitOnline("persistent");
        gw.api().post("/v1/clients/persistent/messages?ttl=600", "first");
        assertEquals("first\n", finish(first));
        gw.api().post("/v1/clients/persistent/messages?ttl=600", "while away");
        assertEquals("while away\n", finish(new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", port,
                "-i", "persistent", "-c", "-q", "1", "-t", "push/persistent", "-C", "1").redirectErrorStream(true)
                .start()));
    }

    @Test
    void mosquittoRetainsAndItsWillReachesASubscriberWhenKilled() throws Exception {
        Assumptions.assumeTrue(installed("which", "mosquitto_sub"),
                "mosquitto_sub not installed (apt-get install mosquitto-clients)");
        gw.config.mqttPort = 0;
        gw.start();
        String port = Integer.toString(gw.server().mqttPort());
        finish(new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", "thermo", "-q", "1", "-r",
                "-t", "home/temp", "-m", "21.5").redirectErrorStream(true).start());
        // %r is the retained flag, %t the topic, %p the payload.
        assertEquals("1 home/temp 21.5\n", finish(new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p",
                port, "-i", "reader", "-t", "home/#", "-C", "1", "-F", "%r %t %p").redirectErrorStream(true)
                .start()));

        Process watcher = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-i", "watcher",
                "-t", "status/#", "-C", "2", "-F", "%t %p").redirectErrorStream(true).start();
        // Online is not subscribed yet (its SUBSCRIBE follows the CONNACK): a probe it receives says it is.
        GatewayFixture.await(() -> {
            try {
                return gw.api().post("/v1/topics/status%2Fprobe/messages", "here").json().get("delivered")
                        .asInt() == 1;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "the watcher subscribed to status/#");
        Process device = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-i", "device",
                "-t", "cmd/device", "--will-topic", "status/device", "--will-payload", "lost")
                .redirectErrorStream(true).start();
        awaitOnline("device");
        device.destroyForcibly(); // SIGKILL: no DISCONNECT
        assertEquals("status/probe here\nstatus/device lost\n", finish(watcher));
    }

    @Test
    void pahoV5ClientSubscribesWithWildcardsAndAcknowledgesStoredPushes() throws Exception {
        String python = pahoPython();
        gw.config.mqttPort = 0;
        gw.start();
        Path script = tmp.resolve("client.py");
        Files.writeString(script, """
                import sys, time, paho.mqtt.client as mqtt
                port = int(sys.argv[1]); got = []
                def on_connect(c, u, f, rc, props=None):
                    c.subscribe("sensors/#", qos=1)
                def on_subscribe(c, u, mid, granted, props=None):
                    print("subscribed", flush=True)
                def on_message(c, u, m):
                    got.append("%s %d %s" % (m.topic, m.qos, m.payload.decode()))
                try:
                    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="paho", protocol=mqtt.MQTTv5)
                except AttributeError:
                    c = mqtt.Client(client_id="paho", protocol=mqtt.MQTTv5)
                c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
                c.connect("127.0.0.1", port, 30)
                # One thread: a QoS 1 PUBLISH's PUBACK is queued in the same loop() call that ran on_message, so
                # it leaves before the DISCONNECT queued after it.
                deadline = time.time() + 15
                while len(got) < 2 and time.time() < deadline:
                    c.loop(0.05)
                print("\\n".join(got), flush=True)
                c.disconnect()
                deadline = time.time() + 5
                while c.is_connected() and time.time() < deadline:
                    c.loop(0.05)
                """);
        Process paho = new ProcessBuilder(python, script.toString(), Integer.toString(gw.server().mqttPort()))
                .redirectErrorStream(true).start();
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                paho.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("subscribed", out.readLine());
        assertEquals(1, gw.api().post("/v1/topics/sensors%2Fhall/messages", "19.0").json().get("delivered")
                .asInt());
        gw.api().post("/v1/clients/paho/messages?ttl=600", "direct");
        assertTrue(paho.waitFor(20, TimeUnit.SECONDS), "paho finished");
        assertEquals(List.of("sensors/hall 0 19.0", "push/paho 1 direct"), out.lines().toList());
        assertEquals(0, paho.exitValue());
        GatewayFixture.await(() -> {
            try {
                return gw.api().get("/v1/clients/paho").status() == 404;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "paho's session ends once its stored push is acknowledged and it left");
    }

    @Test
    void pahoV5UserPropertiesPassFromPublisherToSubscriber() throws Exception {
        String python = pahoPython();
        gw.config.mqttPort = 0;
        gw.start();
        Path script = tmp.resolve("props.py");
        Files.writeString(script, """
                import sys, time, paho.mqtt.client as mqtt
                from paho.mqtt.properties import Properties
                from paho.mqtt.packettypes import PacketTypes
                port = int(sys.argv[1]); got = []; subscribed = []
                def client(name):
                    try:
                        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
                    except AttributeError:
                        return mqtt.Client(client_id=name, protocol=mqtt.MQTTv5)
                sub = client("props-sub")
                sub.on_subscribe = lambda c, u, mid, granted, props=None: subscribed.append(1)
                sub.on_message = lambda c, u, m: got.append(sorted(getattr(m.properties, "UserProperty", [])))
                sub.connect("127.0.0.1", port, 30); sub.loop_start(); sub.subscribe("plant/#", qos=0)
                while not subscribed: time.sleep(0.02)
                pub = client("props-pub"); pub.connect("127.0.0.1", port, 30); pub.loop_start()
                props = Properties(PacketTypes.PUBLISH); props.UserProperty = [("site", "north"), ("unit", "C")]
                pub.publish("plant/temp", "19", qos=1, properties=props)
                deadline = time.time() + 10
                while not got and time.time() < deadline: time.sleep(0.02)
                print(got[0] if got else "nothing", flush=True)
                pub.disconnect(); sub.disconnect(); pub.loop_stop(); sub.loop_stop()
                """);
        Process p = new ProcessBuilder(python, script.toString(), Integer.toString(gw.server().mqttPort()))
                .redirectErrorStream(true).start();
        assertEquals("[('site', 'north'), ('unit', 'C')]\n", finish(p));
    }
}
