package io.switchboard.server;

import java.io.IOException;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An MQTT 3.1.1 device as fleets run them, over TCP or a WebSocket: a persistent session (clean session 0) that it keeps connected, every
 * QoS 1 PUBLISH acknowledged after it was recorded, a PINGREQ every half keep-alive, and a connection taken for dead
 * when nothing came for three keep-alives (a paused server): closed, and opened again after a random back-off, as
 * also when the server closed it or refused the CONNECT.
 *
 * <p>Records each PUBLISH's payload with its packet id (the server's follows from the message's seq), and tells
 * {@code events} what happened (connected, dropped, each PUBLISH). One thread of its own reads; the pings come from a shared scheduler (a socket's writes do not interleave).
 */
final class MqttDevice implements AutoCloseable {
    private final String clientId;
    private final int port;
    /** MQTT over a WebSocket ({@code /mqtt}, subprotocol mqtt) on {@link #port}, or over TCP. */
    private final boolean webSocket;
    private final int keepAliveSec;
    private final Map<String, Long> received;
    private final Random random;
    private final CompletableFuture<Void> connectedOnce = new CompletableFuture<>();
    private final Thread reader;
    private final ScheduledFuture<?> pings;
    private volatile MqttTestClient connection;
    private volatile boolean closed;
    /** What happened to the device, for a failure's report. */
    private final Consumer<String> events;

    MqttDevice(String clientId, int port, boolean webSocket, int keepAliveSec, Map<String, Long> received,
               Random random, ScheduledExecutorService pinger, Consumer<String> events) {
        this.clientId = clientId;
        this.port = port;
        this.webSocket = webSocket;
        this.keepAliveSec = keepAliveSec;
        this.received = received;
        this.random = random;
        this.events = events;
        this.reader = new Thread(this::run, "mqtt-device-" + clientId);
        this.reader.setDaemon(true);
        this.reader.start();
        long halfMs = keepAliveSec * 500L;
        this.pings = pinger.scheduleAtFixedRate(this::ping, halfMs, halfMs, TimeUnit.MILLISECONDS);
    }

    /** Completes once the first CONNACK accepted the device. */
    CompletableFuture<Void> connectedOnce() {
        return connectedOnce;
    }

    private void ping() {
        MqttTestClient c = connection;
        if (c != null) {
            try {
                c.pingreq();
            } catch (IOException e) {
                // the reader sees the connection end
            }
        }
    }

    private void run() {
        while (!closed) {
            try (MqttTestClient c = webSocket
                    ? MqttTestClient.over(WsTestClient.open(port, "/mqtt", "Sec-WebSocket-Protocol: mqtt"), 4)
                    : MqttTestClient.open(port, 4)) {
                c.readTimeout(3_000);
                c.sendConnect(clientId, false, keepAliveSec, null, null, 0);
                byte[] connack = c.connack().body();
                int code = connack[1] & 0xFF;
                if (code != 0) {
                    events.accept("CONNACK refused " + code);
                } else {
                    events.accept("connected, session present " + (connack[0] & 1));
                    connection = c;
                    connectedOnce.complete(null);
                    c.readTimeout(keepAliveSec * 3_000);
                    while (!closed) {
                        MqttTestClient.Packet p = c.read();
                        if (p.type() == MqttTestClient.PUBLISH) {
                            MqttTestClient.Pub pub = c.publishOf(p);
                            received.put(pub.text(), (long) pub.packetId());
                            events.accept("PUBLISH " + pub.text().substring(0, pub.text().indexOf(' '))
                                    + " packet id " + pub.packetId() + (pub.dup() ? " DUP" : ""));
                            if (pub.qos() == 1) {
                                c.puback(pub.packetId());
                            }
                        }
                    }
                }
            } catch (IOException | RuntimeException | AssertionError e) {
                // closed by the server, refused, silent for three keep-alives: connect again
                events.accept("dropped: " + e);
            } finally {
                connection = null;
            }
            try {
                Thread.sleep(100 + random.nextInt(900));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        pings.cancel(false);
        MqttTestClient c = connection;
        if (c != null) {
            c.close();
        }
        reader.interrupt();
        reader.join(5_000);
    }
}
