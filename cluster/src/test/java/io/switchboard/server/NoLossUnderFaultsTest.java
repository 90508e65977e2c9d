package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.switchboard.client.SwitchboardClient;
import io.switchboard.client.SwitchboardListener;
import io.switchboard.cluster.redis.RedisProcessAccess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The promise of a 200, checked the way a user would break it: clients of the Java library (reconnect and resume),
 * stored pushes through the API, one after the other per client, while faults come at random. Afterwards every push
 * answered 200 must reach its client, and the seqs of one client's answered pushes must grow in the order they were
 * answered.
 * <ul>
 * <li>A cluster: three nodes, processes of their own sharing one client port ({@code --reuse-port}, so a client that
 * reconnects lands on any of them), pushes through any node; faults: a node killed with SIGKILL and started again, a
 * node stopped with SIGSTOP past its lease (or within it) and continued, a node drained with SIGTERM and started
 * again, Redis killed and started again from its append-only file, clients disconnected through the API.</li>
 * <li>One gateway on its disk store (the embedded default): killed with SIGKILL, drained, paused, its clients
 * disconnected.</li>
 * </ul>
 *
 * <p>Short in the suite; longer and with another seed by hand, e.g.
 * {@code mvn -o -q surefire:test -pl cluster -Dtest=NoLossUnderFaultsTest -Dnoloss.seconds=600 -Dnoloss.seed=7}.
 * The seed is printed; it decides the faults and the targets, not the timing, so a run is not replayed exactly.
 */
@Timeout(600)
class NoLossUnderFaultsTest {
    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");
    private static final int NODES = 3;

    private final long seed = Long.getLong("noloss.seed", System.nanoTime() % 100_000);
    private final int faultSeconds = Integer.getInteger("noloss.seconds", 40);
    private final int clientCount = Integer.getInteger("noloss.clients", 60);

    /** A push answered 200. */
    private record Promise(int client, String payload, long seq, String node, long answeredAtMs) {
    }

    /** One node: a process that can be killed, started again and paused, always on the same ports. */
    private static final class Node {
        final String name;
        final List<String> args;
        final int apiPort;
        volatile ServerProcess process;
        volatile boolean up;

        Node(String name, int apiPort, List<String> args) {
            this.name = name;
            this.apiPort = apiPort;
            this.args = args;
        }

        void start() throws IOException {
            process = ServerProcess.start("", List.of("-Xmx256m"), args.toArray(String[]::new));
            up = true;
        }

        void kill() throws InterruptedException {
            up = false;
            process.kill();
        }

        void signal(String signal) throws IOException, InterruptedException {
            up = signal.equals("CONT");
            new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).inheritIO().start().waitFor();
        }
    }

    @Test
    void shouldDeliverEveryAnsweredStoredPushOfAClusterThroughKillsPausesDrainsRedisRestartsAndDisconnects()
            throws Exception {
        run(true);
    }

    @Test
    void shouldDeliverEveryAnsweredStoredPushOfOneGatewayOnItsDiskStoreThroughKillsPausesDrainsAndDisconnects(
            @TempDir Path dataDir) throws Exception {
        this.dataDir = dataDir;
        run(false);
    }

    private Path dataDir;

    private void run(boolean cluster) throws Exception {
        String setup = cluster ? NODES + " nodes in a cluster" : "one gateway on its disk store";
        System.out.println("NoLossUnderFaultsTest: " + setup + ", seed " + seed + ", " + faultSeconds
                + " s of faults, " + clientCount + " clients (-Dnoloss.seed=, -Dnoloss.seconds=, -Dnoloss.clients=)");
        Random random = new Random(seed);
        var group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        List<Node> nodes = new ArrayList<>();
        List<SwitchboardClient> clients = new ArrayList<>();
        // Redis persists every write before answering: what it answered survives its restart (docs/cluster.md).
        try (var redis = cluster ? RedisProcessAccess.start("--appendonly", "yes", "--appendfsync", "always") : null) {
            int port = freePort();
            for (int i = 0; i < (cluster ? NODES : 1); i++) {
                String name = String.valueOf((char) ('a' + i));
                int api = freePort();
                List<String> args = new ArrayList<>(List.of("--port", String.valueOf(port), "--api-port",
                        String.valueOf(api), "--hb-min", "1"));
                args.addAll(cluster ? List.of("--reuse-port", "--cluster", redis.uri(), "--node", name,
                        "--cluster-timeout", "500") : List.of("--data-dir", dataDir.toString()));
                nodes.add(new Node(name, api, args));
            }
            for (Node n : nodes) {
                n.start();
            }

            List<Set<String>> received = new ArrayList<>();
            List<List<Long>> receivedSeqs = new ArrayList<>();
            AtomicInteger resets = new AtomicInteger();
            for (int i = 0; i < clientCount; i++) {
                Set<String> got = ConcurrentHashMap.newKeySet();
                List<Long> seqs = java.util.Collections.synchronizedList(new ArrayList<>());
                received.add(got);
                receivedSeqs.add(seqs);
                clients.add(SwitchboardClient.builder().host("127.0.0.1").port(port).clientId("k" + i)
                        .heartbeatSeconds(2).eventLoopGroup(group).reconnectBackoffMs(100, 1_000)
                        .connectTimeoutMs(3_000).random(new Random(seed + i))
                        .listener(new SwitchboardListener() {
                            @Override
                            public void onMessage(long seq, byte[] payload) {
                                got.add(new String(payload, StandardCharsets.UTF_8));
                                seqs.add(seq);
                            }

                            @Override
                            public void onSessionReset(long resumedFromSeq, long serverSeq) {
                                resets.incrementAndGet();
                            }
                        }).build());
            }
            for (SwitchboardClient c : clients) {
                c.connect().get(20, TimeUnit.SECONDS);
            }

            ConcurrentLinkedQueue<Promise> promises = new ConcurrentLinkedQueue<>(); // in the order answered
            AtomicBoolean pushing = new AtomicBoolean(true);
            AtomicBoolean[] busy = new AtomicBoolean[clientCount];
            for (int i = 0; i < clientCount; i++) {
                busy[i] = new AtomicBoolean();
            }
            Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
            AtomicLong sent = new AtomicLong();
            List<Thread> pushers = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                Random r = new Random(seed * 31 + t);
                Thread pusher = new Thread(() -> {
                    while (pushing.get()) {
                        int k = r.nextInt(clientCount);
                        if (!busy[k].compareAndSet(false, true)) {
                            continue;
                        }
                        try {
                            Node via = nodes.get(r.nextInt(nodes.size()));
                            String payload = "k" + k + "-" + sent.incrementAndGet();
                            String answer = push(http, via, k, payload);
                            answers.computeIfAbsent(kind(answer), a -> new AtomicInteger()).incrementAndGet();
                            Matcher m = SEQ.matcher(answer);
                            if (answer.startsWith("200 ") && m.find()) {
                                promises.add(new Promise(k, payload, Long.parseLong(m.group(1)), via.name,
                                        System.currentTimeMillis()));
                            }
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            return;
                        } finally {
                            busy[k].set(false);
                        }
                    }
                }, "pusher-" + t);
                pusher.start();
                pushers.add(pusher);
            }

            List<String> faults = new ArrayList<>();
            long faultsEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(faultSeconds);
            while (System.nanoTime() < faultsEnd) {
                Thread.sleep(2_000 + random.nextInt(2_000));
                Node n = nodes.get(random.nextInt(nodes.size()));
                switch (random.nextInt(cluster ? 6 : 5)) { // 5: Redis, in a cluster only
                    case 0 -> {
                        faults.add("kill " + n.name);
                        n.kill();
                        Thread.sleep(500 + random.nextInt(1_500));
                        n.start();
                    }
                    case 1 -> {
                        faults.add("pause " + n.name);
                        n.signal("STOP");
                        Thread.sleep(7_000 + random.nextInt(2_000)); // past its 6 s lease
                        n.signal("CONT");
                    }
                    case 2 -> {
                        faults.add("short pause " + n.name);
                        n.signal("STOP");
                        Thread.sleep(500 + random.nextInt(2_500)); // within its lease
                        n.signal("CONT");
                    }
                    case 3 -> {
                        faults.add("drain " + n.name);
                        n.up = false;
                        n.process.close(); // SIGTERM: the graceful drain
                        n.start();
                    }
                    case 5 -> {
                        faults.add("redis restart");
                        redis.stop();
                        Thread.sleep(500 + random.nextInt(2_500));
                        redis.startAgain();
                    }
                    default -> {
                        faults.add("disconnect");
                        for (int i = 0; i < clientCount; i++) {
                            if (random.nextInt(5) == 0) {
                                disconnect(http, n, i);
                            }
                        }
                    }
                }
            }
            pushing.set(false);
            for (Thread t : pushers) {
                t.join(30_000);
            }

            // Everything up again: every answered push must arrive.
            List<Promise> all = new ArrayList<>(promises);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            List<Promise> missing = all;
            while (System.nanoTime() < deadline) {
                missing = all.stream().filter(p -> !received.get(p.client()).contains(p.payload())).toList();
                if (missing.isEmpty()) {
                    break;
                }
                Thread.sleep(500);
            }
            String summary = setup + ", seed " + seed + ": " + sent.get() + " pushes, answers " + new TreeMap<>(answers)
                    + ", " + all.size() + " answered 200, " + missing.size() + " of them not received; faults "
                    + faults + "; session resets " + resets.get();
            System.out.println("NoLossUnderFaultsTest: " + summary);
            StringBuilder detail = new StringBuilder();
            for (Promise p : missing.subList(0, Math.min(10, missing.size()))) {
                detail.append("\n  not received: ").append(p).append("; the client received seqs ")
                        .append(around(receivedSeqs.get(p.client()), p.seq()));
            }
            assertTrue(missing.isEmpty(), summary + detail + nodeLogs(nodes));
            assertTrue(faults.size() >= 3, "faults: " + faults);
            assertTrue(all.size() > 100, "too few pushes answered 200 to show anything: " + summary);

            // One client's answered pushes were sent one after the other: their seqs grow in that order.
            Map<Integer, Long> lastSeq = new java.util.HashMap<>();
            for (Promise p : all) {
                Long before = lastSeq.put(p.client(), p.seq());
                assertTrue(before == null || p.seq() > before, "seq " + p.seq() + " answered after " + before
                        + " for client k" + p.client() + ": " + p + "\n" + summary);
            }
        } finally {
            for (SwitchboardClient c : clients) {
                c.close();
            }
            for (Node n : nodes) {
                if (n.process != null) {
                    n.signal("CONT");
                    n.process.close();
                }
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** "STATUS BODY", or "error ..." when there was no answer. */
    private static String push(HttpClient http, Node via, int client, String payload) throws InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + via.apiPort + "/v1/clients/k"
                        + client + "/messages?ttl=300"))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(payload)).build();
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body();
        } catch (IOException e) {
            return "error " + e;
        }
    }

    /** An answer's kind for the summary: "200", or the status and the start of the reason, without numbers. */
    private static String kind(String answer) {
        if (answer.startsWith("200 ")) {
            return "200";
        }
        String k = answer.replaceAll("[0-9]+", "N").replaceAll("\\s+", " ");
        return k.substring(0, Math.min(k.length(), 80)).replaceFirst("^N", answer.substring(0, 3));
    }

    private static void disconnect(HttpClient http, Node via, int client) throws InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + via.apiPort + "/v1/clients/k"
                + client + "?code=503&reason=test")).timeout(Duration.ofSeconds(5)).DELETE().build();
        try {
            http.send(req, HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            // a node down: that client stays
        }
    }

    /** The received seqs near {@code seq}. */
    private static String around(List<Long> seqs, long seq) {
        List<Long> copy;
        synchronized (seqs) {
            copy = new ArrayList<>(seqs);
        }
        int at = 0;
        while (at < copy.size() && copy.get(at) < seq) {
            at++;
        }
        return copy.subList(Math.max(0, at - 3), Math.min(copy.size(), at + 3)) + " (" + copy.size() + " in all)";
    }

    private static String nodeLogs(List<Node> nodes) {
        StringBuilder b = new StringBuilder();
        for (Node n : nodes) {
            String out = n.process.output();
            b.append("\n--- node ").append(n.name).append(" (last process) ---\n")
                    .append(out.substring(Math.max(0, out.length() - 4_000)));
        }
        return b.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
