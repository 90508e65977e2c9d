package io.switchboard.bench;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Publishes the bench's pushes through a peer's own protocol, so that push latency is measured the same way on
 * Switchboard (its API) and on the peers (what their users publish with): Redis {@code PUBLISH bench:<id>}, NATS
 * {@code PUB bench.<id>}, MQTT 3.1.1 {@code PUBLISH bench/<id>} at QoS 0 (Mosquitto); and Switchboard's own API the
 * same way ({@code http}: {@code POST /v1/clients/<id>/messages} pipelined on one HTTP/1.1 keep-alive connection,
 * so the comparison holds without the JDK HTTP client's own costs). One TCP connection, written by
 * the pushing thread and flushed per message; a daemon thread reads the answers, counts the refusals among them as
 * failed pushes (HTTP other than 200, a Redis PUBLISH that reached no subscriber or an error, a NATS -ERR), and
 * answers a NATS server's PING. Not thread-safe for publishing: one thread publishes.
 */
final class PeerPublisher implements Publisher {
    /** The protocols it publishes with. */
    static final java.util.List<String> PROTOCOLS = java.util.List.of("redis", "nats", "mqtt", "http");

    private final String protocol;
    /** The {@code Authorization} header line for http (with --api-token), else empty. */
    private final String authorization;
    private final Socket socket;
    private final OutputStream out;
    private final BenchStats stats;
    /** Answers read and not yet looked at whole (the reader thread's). */
    private final StringBuilder answers = new StringBuilder();

    private PeerPublisher(String protocol, Socket socket, String apiToken, BenchStats stats) throws IOException {
        this.protocol = protocol;
        this.stats = stats;
        this.authorization = apiToken == null ? "" : "Authorization: Bearer " + apiToken + "\r\n";
        this.socket = socket;
        socket.setTcpNoDelay(true);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    /** Connects to the peer at {@code target} and does its handshake ({@code apiToken}: http only, may be null). */
    static PeerPublisher connect(String protocol, InetSocketAddress target, String apiToken, BenchStats stats)
            throws IOException {
        if (!PROTOCOLS.contains(protocol)) {
            throw new IllegalArgumentException("--publish-via must be one of " + String.join(", ", PROTOCOLS)
                    + ", not '" + protocol + "'");
        }
        Socket s = new Socket();
        s.connect(target, 5000);
        PeerPublisher p = new PeerPublisher(protocol, s, apiToken, stats);
        p.handshake();
        Thread reader = new Thread(p::drain, "bench-publisher-reader");
        reader.setDaemon(true);
        reader.start();
        return p;
    }

    private void handshake() throws IOException {
        switch (protocol) {
            case "nats" -> out.write("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            case "mqtt" -> {
                byte[] id = ("bench-pub-" + ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII);
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                b.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, (byte) id.length});
                b.writeBytes(id);
                out.write(0x10);
                remainingLength(out, b.size());
                b.writeTo(out);
            }
            default -> { // redis: nothing to say first
            }
        }
        out.flush();
    }

    /** Publishes {@code payload} to client {@code clientId}'s channel, subject or topic, and flushes. */
    @Override
    public void publish(String clientId, String payload) throws IOException {
        send(clientId, "/v1/clients/" + clientId + "/messages", payload);
    }

    @Override
    public void broadcast(String payload) throws IOException {
        send(io.switchboard.bench.protocol.BenchConnection.BROADCAST_ID, "/v1/broadcast", payload);
    }

    /** Publishes {@code payload} to the channel of {@code clientId}, or (http) posts it to {@code path}. */
    private synchronized void send(String clientId, String path, String payload) throws IOException {
        byte[] p = payload.getBytes(StandardCharsets.US_ASCII);
        switch (protocol) {
            case "redis" -> {
                String channel = "bench:" + clientId;
                out.write(("*3\r\n$7\r\nPUBLISH\r\n$" + channel.length() + "\r\n" + channel + "\r\n$" + p.length
                        + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(p);
                out.write('\r');
                out.write('\n');
            }
            case "http" -> {
                out.write(("POST " + path + " HTTP/1.1\r\nHost: bench\r\n" + authorization
                        + "Content-Length: " + p.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(p);
            }
            case "nats" -> {
                out.write(("PUB bench." + clientId + " " + p.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(p);
                out.write('\r');
                out.write('\n');
            }
            default -> {
                byte[] topic = ("bench/" + clientId).getBytes(StandardCharsets.UTF_8);
                out.write(0x30);
                remainingLength(out, 2 + topic.length + p.length);
                out.write(topic.length >> 8);
                out.write(topic.length);
                out.write(topic);
                out.write(p);
            }
        }
        out.flush();
    }

    /** Reads what the peer answers, counting its refusals; a NATS PING gets its PONG. */
    private void drain() {
        try {
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (protocol.equals("nats") && new String(buf, 0, n, StandardCharsets.US_ASCII).contains("PING\r\n")) {
                    synchronized (this) {
                        out.write("PONG\r\n".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                }
                scan(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (IOException closed) {
            // the run ended or the peer closed: the pushes then fail and are counted
        }
    }

    /**
     * Looks at the answers in {@code more} (with what was left of the last read): HTTP status lines (each response
     * may follow the previous body on the same line), Redis integer and error replies, NATS -ERR lines.
     */
    void scan(String more) {
        answers.append(more);
        int done = 0;
        switch (protocol) {
            case "http" -> {
                int i;
                while ((i = answers.indexOf("HTTP/1.1 ", done)) >= 0 && i + 12 <= answers.length()) {
                    String code = answers.substring(i + 9, i + 12);
                    if (!code.equals("200")) {
                        refused("push: HTTP " + code);
                    }
                    done = i + 12;
                }
                done = Math.max(done, answers.length() - 11); // a status line split by the read stays
            }
            case "redis", "nats" -> {
                int i;
                while ((i = answers.indexOf("\r\n", done)) >= 0) {
                    String line = answers.substring(done, i);
                    if (protocol.equals("redis") && line.equals(":0")) {
                        refused("publish: reached no subscriber"); // the client was not subscribed: not delivered
                    } else if (line.startsWith("-")) {
                        refused("publish: " + line);
                    }
                    done = i + 2;
                }
            }
            default -> done = answers.length(); // MQTT at QoS 0 answers nothing
        }
        answers.delete(0, Math.max(0, done));
    }

    private void refused(String why) {
        stats.pushesFailed.increment();
        stats.error(why);
    }

    private static void remainingLength(OutputStream o, int length) throws IOException {
        do {
            int digit = length & 0x7F;
            length >>>= 7;
            o.write(length > 0 ? digit | 0x80 : digit);
        } while (length > 0);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
