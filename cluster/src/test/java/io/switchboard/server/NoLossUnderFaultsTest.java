package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.switchboard.client.SwitchboardClient;
import io.switchboard.client.SwitchboardListener;
import io.switchboard.cluster.redis.RedisCluster;
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
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
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
 * The promise of a 200, checked the way a user would break it: clients of the Java library (reconnect and resume)
 * and, one in four, MQTT 3.1.1 devices with a persistent session ({@link MqttDevice}: QoS 1, reconnecting; half of
 * them over a WebSocket), stored
 * pushes through the API (single, and batches of one to three clients), one request at a time per client, while
 * faults come at random. Afterwards every push answered 200 must have reached its client under the seq it was
 * answered with (an MQTT device: the packet id that follows from it), and the seqs of one client's answered pushes
 * must grow in the order they were answered.
 * <ul>
 * <li>A cluster: three nodes, processes of their own sharing one client port ({@code --reuse-port}, so a client that
 * reconnects lands on any of them), pushes through any node; faults: a node killed with SIGKILL and started again, a
 * node stopped with SIGSTOP past its 6 s lease (9-12 s: half the clients stay connected through it, their silence
 * limit is 15 s) or within it and continued, a node drained with SIGTERM and started again, Redis killed and
 * started again from its append-only file, a node cut off from Redis for 7-11 s (a silent partition: the node runs
 * on and its clients stay connected), clients disconnected through the API.</li>
 * <li>One gateway on its disk store (the embedded default, small segments so that they roll and are compacted):
 * killed, paused, drained, its clients disconnected.</li>
 * </ul>
 * Every kind of fault happens at least once per run, in a seeded random order.
 *
 * <p>Short in the suite; longer and with another seed by hand, e.g.
 * {@code mvn -o -q surefire:test -pl cluster -Dtest=NoLossUnderFaultsTest -Dnoloss.seconds=600 -Dnoloss.seed=7}.
 * The seed decides the faults and the targets, not the timing, so a run is not replayed exactly.
 */
@Timeout(value = 24, unit = TimeUnit.HOURS) // the run's own limit is below, from its length
class NoLossUnderFaultsTest {
    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");
    private static final Pattern RESULT = Pattern.compile(
            "\\{\"client\":\"k\\d+\",\"status\":(\\d+)(?:,\"seq\":(\\d+))?(?:,\"delivered\":\\w+)?"
                    + "(?:,\"error\":(\"(?:[^\"\\\\]|\\\\.)*\"))?\\}");
    private static final int NODES = 3;
    /** Makes the disk store's 1 MiB segments roll every few seconds (and be compacted). */
    private static final String PADDING = " " + "p".repeat(300);

    private final long seed = Long.getLong("noloss.seed", System.nanoTime() % 100_000);
    private final int faultSeconds = Integer.getInteger("noloss.seconds", 40);
    private final int clientCount = Integer.getInteger("noloss.clients", 60);
    /**
     * Faults may overlap: each runs on a thread of its own and the next may start before it ended (two at most, on
     * different nodes, never two of a kind; one gateway: one at a time still). By hand only
     * ({@code -Dnoloss.overlap=true}). The seed still decides the faults and their lengths; which node each hits
     * then depends on which faults ended first.
     */
    private final boolean overlap = Boolean.getBoolean("noloss.overlap");
    /** The test ended: a node a fault starts now is closed at once (nothing else would). */
    private volatile boolean fleetClosed;

    private enum Fault { KILL, PAUSE, SHORT_PAUSE, DRAIN, DISCONNECT, REDIS_RESTART, REDIS_PARTITION }

    /** A push answered 200. */
    private record Promise(int client, String payload, long seq, String node) {
    }

    @Test
    void shouldDeliverEveryAnsweredStoredPushOfAClusterThroughKillsPausesDrainsRedisRestartsAndDisconnects() {
        assertTimeoutPreemptively(Duration.ofSeconds(faultSeconds + 300L), () -> run(true, null));
    }

    @Test
    void shouldDeliverEveryAnsweredStoredPushOfOneGatewayOnItsDiskStoreThroughKillsPausesDrainsAndDisconnects(
            @TempDir Path dataDir) {
        assertTimeoutPreemptively(Duration.ofSeconds(faultSeconds + 300L), () -> run(false, dataDir));
    }

    private void run(boolean cluster, Path dataDir) throws Exception {
        String setup = cluster ? NODES + " nodes in a cluster" : "one gateway on its disk store";
        System.out.println("NoLossUnderFaultsTest: " + setup + ", seed " + seed + ", " + faultSeconds
                + " s of faults" + (overlap ? ", overlapping" : "") + ", " + clientCount
                + " clients, one in four over MQTT (-Dnoloss.seed=, -Dnoloss.seconds=, -Dnoloss.clients=,"
                + " -Dnoloss.overlap=)");
        try (Fleet f = new Fleet()) {
            // Redis persists every write before answering: what it answered survives its restart (docs/cluster.md).
            f.redis = cluster ? RedisProcessAccess.start("--appendonly", "yes", "--appendfsync", "always") : null;
            int port = FreePorts.belowTheEphemeralRange();
            int mqttPort = FreePorts.belowTheEphemeralRange();
            int wsPort = FreePorts.belowTheEphemeralRange();
            for (int i = 0; i < (cluster ? NODES : 1); i++) {
                String name = String.valueOf((char) ('a' + i));
                List<String> args = new ArrayList<>(List.of("--port", String.valueOf(port), "--api-port", "0",
                        "--mqtt-port", String.valueOf(mqttPort), "--ws-port", String.valueOf(wsPort), "--hb-min", "1",
                        "--drain-period", "2"));
                if (cluster) {
                    f.paths.add(new RedisPath(Integer.parseInt(f.redis.uri().replaceAll(".*:", ""))));
                }
                args.addAll(cluster ? List.of("--reuse-port", "--cluster", "redis://127.0.0.1:"
                        + f.paths.get(i).port(), "--node", name)
                        : List.of("--data-dir", dataDir.toString(), "--store-segment", "1m"));
                f.nodes.add(new Node(name, args));
            }
            for (Node n : f.nodes) {
                n.start();
            }
            f.connectClients(port, mqttPort, wsPort);
            f.startPushers();

            Random random = new Random(seed);
            List<Fault> deck = new ArrayList<>();
            List<String> faults = new ArrayList<>();
            Set<Fault> kinds = cluster ? EnumSet.allOf(Fault.class)
                    : EnumSet.complementOf(EnumSet.of(Fault.REDIS_RESTART, Fault.REDIS_PARTITION));
            long faultsEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(faultSeconds);
            while (System.nanoTime() < faultsEnd || faults.size() < kinds.size()) {
                if (deck.isEmpty()) {
                    deck.addAll(kinds);
                    Collections.shuffle(deck, random);
                }
                Thread.sleep(2_000 + random.nextInt(2_000));
                Fault fault = deck.removeLast();
                f.faults.awaitRoomFor(fault, f.nodes.size());
                List<Node> free = f.nodes.stream().filter(x -> !f.faults.busy(x)).toList();
                Node n = free.get(random.nextInt(free.size()));
                faults.add(fault + (fault == Fault.REDIS_RESTART || fault == Fault.DISCONNECT ? "" : " " + n.name));
                if (overlap) {
                    Random own = new Random(random.nextLong()); // the seed still decides its draws
                    f.faults.start(fault, n, () -> apply(f, fault, n, own));
                } else {
                    apply(f, fault, n, random);
                }
            }
            f.faults.awaitAll();
            f.stopPushers();
            for (Node n : f.nodes) {
                assertTrue(n.process.alive(), "node " + n.name + " ended by itself:" + n.logs());
            }

            // Everything up again: every answered push must arrive.
            List<Promise> all = new ArrayList<>(f.promises);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            List<Promise> missing = all;
            while (System.nanoTime() < deadline) {
                missing = all.stream().filter(p -> !f.received.get(p.client()).containsKey(p.payload())).toList();
                if (missing.isEmpty()) {
                    break;
                }
                Thread.sleep(500);
            }
            String summary = setup + ", seed " + seed + ": " + f.sent.get() + " messages pushed, answers "
                    + new TreeMap<>(f.answers) + ", " + all.size() + " answered 200 (to MQTT devices "
                    + all.stream().filter(p -> isMqtt(p.client()) && !isWebSocket(p.client())).count()
                    + " over TCP, " + all.stream().filter(p -> isWebSocket(p.client())).count()
                    + " over a WebSocket), " + missing.size() + " of them not received; faults " + faults + "; session resets " + f.resets.get()
                    + "; clients sent to resume by the nodes' last processes " + f.resumesSent();
            System.out.println("NoLossUnderFaultsTest: " + summary);
            StringBuilder detail = new StringBuilder();
            for (Promise p : missing.subList(0, Math.min(10, missing.size()))) {
                detail.append("\n  not received: ").append(p).append("; the client received seqs ")
                        .append(around(f.received.get(p.client()).values(), p.seq()));
            }
            missing.stream().map(Promise::client).distinct().limit(3).forEach(c -> detail.append(f.whereIs(c)));
            assertTrue(missing.isEmpty(), summary + detail + f.logs());
            assertTrue(f.answers.keySet().stream().noneMatch(a -> a.contains("unreadable")),
                    "batch answers: " + summary);
            assertTrue(all.size() > 100, "too few pushes answered 200 to show anything: " + summary);
            // A reset (the server lost the session) would let the library take later seqs for duplicates.
            assertEquals(0, f.resets.get(), summary);

            Map<Integer, Long> lastSeq = new HashMap<>();
            for (Promise p : all) {
                assertEquals(isMqtt(p.client()) ? packetIdOf(p.seq()) : p.seq(),
                        f.received.get(p.client()).get(p.payload()), "received under the seq it was answered with"
                                + (isMqtt(p.client()) ? " (an MQTT device: the packet id that follows from it)" : "")
                                + ": " + p);
                // One client's answered pushes were sent one after the other: their seqs grow in that order.
                Long before = lastSeq.put(p.client(), p.seq());
                assertTrue(before == null || p.seq() > before, "seq " + p.seq() + " answered after " + before
                        + " for client k" + p.client() + ": " + p + "\n" + summary);
            }
        }
    }

    /** Plays {@code fault} on {@code n} (or on Redis, or its clients), drawing its lengths from {@code random}. */
    private void apply(Fleet f, Fault fault, Node n, Random random) throws Exception {
        n.available = !EnumSet.of(Fault.KILL, Fault.PAUSE, Fault.SHORT_PAUSE, Fault.DRAIN).contains(fault);
        switch (fault) {
            case KILL -> {
                n.process.kill();
                Thread.sleep(500 + random.nextInt(1_500));
                n.start();
            }
            case PAUSE, SHORT_PAUSE -> {
                n.signal("STOP");
                Thread.sleep(fault == Fault.PAUSE ? 9_000 + random.nextInt(3_000) // past its lease
                        : 500 + random.nextInt(2_500)); // within it
                n.signal("CONT");
                n.available = true;
            }
            case DRAIN -> {
                n.process.close(); // SIGTERM: the graceful drain
                n.start();
            }
            case REDIS_PARTITION -> {
                // The node runs on, its clients stay; what it sends Redis waits, and goes when healed.
                RedisPath path = f.paths.get(f.nodes.indexOf(n));
                path.cut(true);
                Thread.sleep(7_000 + random.nextInt(4_000)); // past its lease, mostly
                path.cut(false);
            }
            case REDIS_RESTART -> {
                f.redis.stop();
                Thread.sleep(500 + random.nextInt(2_500));
                f.redis.startAgain();
            }
            case DISCONNECT -> {
                for (int i = 0; i < clientCount; i++) {
                    if (random.nextInt(5) == 0) {
                        disconnect(f.http, n, i);
                    }
                }
            }
        }
    }

    /** One node: a process that can be killed, started again and paused; its client port stays, its API port not. */
    private final class Node {
        final String name;
        final List<String> args;
        /**
         * Not paused, killed or draining: what a load balancer's health check would say, so that pushes go to the
         * other nodes meanwhile (instead of all waiting on this one) and reach the clients it holds through them.
         */
        volatile boolean available;
        /** The output of the node's earlier processes (the ends). */
        private final StringBuilder earlier = new StringBuilder();
        volatile ServerProcess process;

        Node(String name, List<String> args) {
            this.name = name;
            this.args = args;
        }

        /**
         * Starts the node's process. With overlapping faults Redis may be restarting meanwhile: a node then refuses
         * to start, and is started again a second later for up to 30 s, as a supervisor would. Without, Redis is
         * up when a node starts: a refusal fails the test.
         */
        void start() throws IOException, InterruptedException {
            if (process != null) {
                earlier.append(tail(process.output(), 3_000)).append("--- (restarted) ---\n");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    process = ServerProcess.start("", List.of("-Xmx256m"), args.toArray(String[]::new));
                    break;
                } catch (AssertionError e) {
                    if (!overlap || !String.valueOf(e.getMessage()).contains(RedisCluster.NOT_STARTED_WITHOUT_REDIS)
                            || System.nanoTime() - deadline > 0) {
                        throw e;
                    }
                    earlier.append("(refused to start; again in 1 s) ").append(e.getMessage()).append('\n');
                    Thread.sleep(1_000);
                }
            }
            if (fleetClosed) {
                process.close(); // started by a fault the test's end cut short
            }
            available = true;
        }

        void signal(String signal) throws IOException, InterruptedException {
            int rc = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).inheritIO().start()
                    .waitFor();
            assertEquals(0, rc, "kill -" + signal + " of node " + name + ": it ended by itself?" + logs());
        }

        String logs() {
            return "\n--- node " + name + " ---\n" + tail(earlier.toString(), 6_000) + tail(process.output(), 4_000);
        }
    }

    /**
     * A node's own way to Redis, that can be cut silently as a network partition would: bytes are held, not
     * dropped, and flow again when it heals (as TCP's retransmissions would carry them).
     */
    private static final class RedisPath implements AutoCloseable {
        private final ServerSocket server;
        private final int target;
        private volatile boolean cut;
        private final Set<java.net.Socket> open = ConcurrentHashMap.newKeySet();

        RedisPath(int target) throws IOException {
            this.target = target;
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            daemon("redis-path-accept", this::accept);
        }

        int port() {
            return server.getLocalPort();
        }

        void cut(boolean cut) {
            this.cut = cut;
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    java.net.Socket from = server.accept();
                    java.net.Socket to;
                    try {
                        to = new java.net.Socket(InetAddress.getLoopbackAddress(), target);
                    } catch (IOException e) {
                        from.close(); // Redis down: refused, as without the path
                        continue;
                    }
                    open.add(from);
                    open.add(to);
                    daemon("redis-path-up", () -> pump(from, to));
                    daemon("redis-path-down", () -> pump(to, from));
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void pump(java.net.Socket in, java.net.Socket out) {
            byte[] buf = new byte[16_384];
            try {
                for (int n; (n = in.getInputStream().read(buf)) > 0; ) {
                    while (cut) {
                        Thread.sleep(20);
                    }
                    out.getOutputStream().write(buf, 0, n);
                }
            } catch (IOException | InterruptedException e) {
                // one end closed
            }
            closeQuietly(in);
            closeQuietly(out);
        }

        private static void closeQuietly(java.net.Socket s) {
            try {
                s.close();
            } catch (IOException e) {
                // closing
            }
        }

        private static void daemon(String name, Runnable r) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            cut = false;
            server.close();
            open.forEach(RedisPath::closeQuietly);
        }
    }

    /** Everything a run starts, stopped in order by {@link #close()} whatever failed. */
    private final class Fleet implements AutoCloseable {
        RedisProcessAccess redis;
        /** Per node of a cluster, its way to Redis. */
        final List<RedisPath> paths = new ArrayList<>();
        final List<Node> nodes = new ArrayList<>();
        final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        /** Pings for the MQTT devices. */
        final java.util.concurrent.ScheduledExecutorService pinger =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        final List<AutoCloseable> clients = new ArrayList<>();
        /** Per client: what happened to it lately (pushes and their answers, connections, messages). */
        final List<Timeline> timelines = new ArrayList<>();
        /** Per client: payload received, with its seq. */
        final List<Map<String, Long>> received = new ArrayList<>();
        final AtomicInteger resets = new AtomicInteger();
        final ConcurrentLinkedQueue<Promise> promises = new ConcurrentLinkedQueue<>(); // in the order answered
        final Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
        final AtomicLong sent = new AtomicLong();
        private final AtomicBoolean pushing = new AtomicBoolean(true);
        private final List<Thread> pushers = new ArrayList<>();
        final Faults faults = new Faults();

        /**
         * Half the clients beat every 2 s (silent 6 s: gone), half every 5 s (15 s: they outlast a pause); one in four
         * is an MQTT device (keep-alive 2 or 5 s, taken for gone by the server after 3 or 7.5 s, by the device after
         * 6 or 15 s), over TCP or a WebSocket.
         */
        void connectClients(int port, int mqttPort, int wsPort) throws Exception {
            List<java.util.concurrent.CompletableFuture<?>> connected = new ArrayList<>();
            for (int i = 0; i < clientCount; i++) {
                Map<String, Long> got = new ConcurrentHashMap<>();
                received.add(got);
                Timeline timeline = new Timeline();
                timelines.add(timeline);
                if (isMqtt(i)) {
                    boolean ws = isWebSocket(i);
                    MqttDevice d = new MqttDevice("k" + i, ws ? wsPort : mqttPort, ws, i % 16 < 8 ? 2 : 5, got,
                            new Random(seed + i), pinger, timeline::add);
                    clients.add(d);
                    connected.add(d.connectedOnce());
                    continue;
                }
                SwitchboardClient c = SwitchboardClient.builder().host("127.0.0.1").port(port).clientId("k" + i)
                        .heartbeatSeconds(i % 2 == 0 ? 2 : 5).eventLoopGroup(group).reconnectBackoffMs(100, 1_000)
                        .connectTimeoutMs(3_000).random(new Random(seed + i))
                        .listener(new SwitchboardListener() {
                            @Override
                            public void onMessage(long seq, byte[] payload) {
                                String text = new String(payload, StandardCharsets.UTF_8);
                                got.put(text, seq);
                                timeline.add("MSG " + text.substring(0, text.indexOf(' ')) + " seq " + seq);
                            }

                            @Override
                            public void onConnected(io.switchboard.client.Welcome welcome) {
                                timeline.add("connected to node " + welcome.node() + ", seq " + welcome.seq());
                            }

                            @Override
                            public void onBye(int code, String text) {
                                timeline.add("BYE " + code + " " + text);
                            }

                            @Override
                            public void onDisconnected(Throwable cause, long reconnectDelayMs) {
                                timeline.add("disconnected: " + cause);
                            }

                            @Override
                            public void onSessionReset(long resumedFromSeq, long serverSeq) {
                                resets.incrementAndGet();
                                timeline.add("session reset: resumed from " + resumedFromSeq + ", server at "
                                        + serverSeq);
                            }
                        }).build();
                clients.add(c);
                connected.add(c.connect());
            }
            for (java.util.concurrent.CompletableFuture<?> c : connected) {
                c.get(20, TimeUnit.SECONDS);
            }
        }

        void startPushers() {
            AtomicBoolean[] busy = new AtomicBoolean[clientCount];
            for (int i = 0; i < clientCount; i++) {
                busy[i] = new AtomicBoolean();
            }
            for (int t = 0; t < 6; t++) {
                Random r = new Random(seed * 31 + t);
                Thread pusher = new Thread(() -> {
                    while (pushing.get()) {
                        int k = r.nextInt(clientCount);
                        if (!busy[k].compareAndSet(false, true)) {
                            continue;
                        }
                        // One push, or (one time in three) a batch of one to three clients, one or two each.
                        List<Integer> claimed = new ArrayList<>(List.of(k));
                        boolean batch = r.nextInt(3) == 0;
                        for (int extra = batch ? r.nextInt(3) : 0; extra > 0; extra--) {
                            int j = r.nextInt(clientCount);
                            if (busy[j].compareAndSet(false, true)) {
                                claimed.add(j);
                            }
                        }
                        try {
                            pushOnce(r, claimed, batch);
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            return;
                        } finally {
                            for (int c : claimed) {
                                busy[c].set(false);
                            }
                        }
                    }
                }, "pusher-" + t);
                pusher.start();
                pushers.add(pusher);
            }
        }

        private void pushOnce(Random r, List<Integer> claimed, boolean batch) throws InterruptedException {
            List<Node> up = nodes.stream().filter(n -> n.available).toList();
            Node via = up.isEmpty() ? nodes.get(0) : up.get(r.nextInt(up.size()));
            List<Integer> to = new ArrayList<>();
            List<String> payloads = new ArrayList<>();
            for (int round = batch ? 2 : 1; round > 0; round--) {
                for (int c : claimed) {
                    if (round == 2 || !batch || r.nextBoolean()) {
                        to.add(c);
                        payloads.add("k" + c + "-" + sent.incrementAndGet() + PADDING);
                    }
                }
            }
            List<String> results = batch ? pushBatch(http, via, to, payloads)
                    : List.of(push(http, via, to.get(0), payloads.get(0)));
            for (int i = 0; i < to.size(); i++) {
                String answer = results.get(i);
                timelines.get(to.get(i)).add((batch ? "batch " : "push ") + payloads.get(i).substring(0,
                        payloads.get(i).indexOf(' ')) + " via " + via.name + ": " + answer.replaceAll("\\s+", " "));
                answers.computeIfAbsent((batch ? "batch " : "") + kind(answer), a -> new AtomicInteger())
                        .incrementAndGet();
                Matcher m = SEQ.matcher(answer);
                if (answer.startsWith("200 ") && m.find()) {
                    promises.add(new Promise(to.get(i), payloads.get(i), Long.parseLong(m.group(1)), via.name));
                }
            }
        }

        void stopPushers() throws InterruptedException {
            pushing.set(false);
            for (Thread t : pushers) {
                t.join(30_000);
            }
        }

        /** The {@code cluster_resume} refusals the nodes' current processes counted. */
        String resumesSent() {
            List<String> counts = new ArrayList<>();
            for (Node n : nodes) {
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + n.process.apiPort() + "/v1/stats")).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    Matcher m = Pattern.compile("\"cluster_resume\":(\\d+)").matcher(r.body());
                    Matcher undone = Pattern.compile("\"late_claims_undone\":(\\d+)").matcher(r.body());
                    counts.add(n.name + " " + (m.find() ? m.group(1) : "0") + " (late claims undone "
                            + (undone.find() ? undone.group(1) : "0") + ")");
                } catch (IOException | InterruptedException e) {
                    counts.add(n.name + " ?");
                }
            }
            return String.join(", ", counts);
        }

        String logs() {
            StringBuilder b = new StringBuilder();
            nodes.forEach(n -> b.append(n.logs()));
            return b.toString();
        }

        /** For a failure's report: {@code client}'s timeline, what each node and Redis say of it now. */
        String whereIs(int client) {
            StringBuilder b = new StringBuilder("\n--- client k" + client + ": its last events (ms since the start)\n");
            b.append(timelines.get(client).dump());
            for (Node n : nodes) {
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + n.process.apiPort() + "/v1/clients/k" + client)).timeout(Duration.ofSeconds(5))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    b.append("  node ").append(n.name).append(": ").append(r.statusCode()).append(' ')
                            .append(r.body()).append('\n');
                } catch (IOException | InterruptedException e) {
                    b.append("  node ").append(n.name).append(": ").append(e).append('\n');
                }
            }
            if (redis != null) {
                b.append("  Redis: ").append(redis.describeClient("k" + client)).append('\n');
            }
            return b.toString();
        }

        @Override
        public void close() {
            fleetClosed = true;
            faults.stop();
            pushing.set(false);
            pushers.forEach(Thread::interrupt);
            for (Thread t : pushers) {
                quietly(() -> t.join(10_000));
            }
            clients.forEach(c -> quietly(c::close));
            pinger.shutdownNow();
            for (Node n : nodes) {
                if (n.process != null) {
                    quietly(() -> n.signal("CONT"));
                    quietly(n.process::close);
                }
            }
            quietly(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS));
            http.close();
            paths.forEach(p -> quietly(p::close));
            if (redis != null) {
                redis.close();
            }
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    /**
     * The faults in play, each on a thread of its own ({@code -Dnoloss.overlap=true}): two at most, on different
     * nodes, never two of a kind. Without overlap none runs here and every node is free.
     */
    private static final class Faults {
        private final Map<Node, Fault> running = new ConcurrentHashMap<>();
        private final List<Thread> threads = new ArrayList<>();
        private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

        boolean busy(Node n) {
            return running.containsKey(n);
        }

        /**
         * Waits until {@code fault} may start (a node of {@code nodes} free too); throws what a fault that ended
         * meanwhile threw.
         */
        void awaitRoomFor(Fault fault, int nodes) throws Exception {
            while (running.size() >= Math.min(2, nodes) || running.containsValue(fault)) {
                Thread.sleep(50);
            }
            rethrow();
        }

        void start(Fault fault, Node n, Step play) {
            running.put(n, fault);
            Thread t = new Thread(() -> {
                try {
                    play.run();
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    running.remove(n);
                }
            }, "fault " + fault + " on " + n.name);
            threads.add(t);
            t.start();
        }

        /**
         * Waits until every fault ended (each is bounded: a node's start takes at most ~30 s more, the test's own
         * timeout bounds the rest); throws the first failure.
         */
        void awaitAll() throws Exception {
            for (Thread t : threads) {
                t.join();
            }
            rethrow();
        }

        private void rethrow() throws Exception {
            Throwable e = failures.peek();
            if (e instanceof Exception x) {
                throw x;
            } else if (e instanceof Error x) {
                throw x;
            }
        }

        /** On a failure elsewhere: every fault still playing is cut short. */
        void stop() {
            Thread.interrupted(); // a join below must wait, not throw at once
            threads.forEach(Thread::interrupt);
            for (Thread t : threads) {
                quietly(() -> t.join(20_000));
            }
        }
    }

    /** Runs a step of the clean-up; a failure there must not keep the rest from running. */
    private static void quietly(Step step) {
        try {
            step.run();
        } catch (Exception | AssertionError e) {
            Thread.interrupted(); // a close that saw an interrupt leaves it set
        }
    }

    /** Clients k3, k7, k11, ... are MQTT devices (k7, k15, ... over a WebSocket), the others the Java library's. */
    private static boolean isMqtt(int client) {
        return client % 4 == 3;
    }

    private static boolean isWebSocket(int client) {
        return client % 8 == 7;
    }

    /** The packet id the server sends a QoS 1 message with seq {@code seq} under (1 to 65535, then again). */
    private static long packetIdOf(long seq) {
        return Long.remainderUnsigned(seq - 1, 0xFFFF) + 1;
    }

    /** The last events of one client, each with the milliseconds since the test started. Thread-safe. */
    private static final class Timeline {
        private static final long START = System.nanoTime();
        private final java.util.ArrayDeque<String> events = new java.util.ArrayDeque<>();

        synchronized void add(String event) {
            if (events.size() == 80) {
                events.removeFirst();
            }
            events.addLast(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - START) + " " + event);
        }

        synchronized String dump() {
            StringBuilder b = new StringBuilder();
            events.forEach(e -> b.append("    ").append(e, 0, Math.min(e.length(), 240)).append('\n'));
            return b.toString();
        }
    }

    /** "STATUS BODY", or "error ..." when there was no answer. */
    private static String push(HttpClient http, Node via, int client, String payload) throws InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + via.process.apiPort()
                        + "/v1/clients/k" + client + "/messages?ttl=300"))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(payload)).build();
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body();
        } catch (IOException e) {
            return "error " + e;
        }
    }

    /**
     * {@code POST /v1/messages}: per message, "200 {"seq":N}" or "STATUS {"error":...}" as {@link #push} answers, or
     * the whole request's answer for each when it was not 200.
     */
    private static List<String> pushBatch(HttpClient http, Node via, List<Integer> to, List<String> payloads)
            throws InterruptedException {
        StringBuilder body = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < to.size(); i++) {
            body.append(i == 0 ? "" : ",").append("{\"client\":\"k").append(to.get(i)).append("\",\"payload\":\"")
                    .append(payloads.get(i)).append("\",\"ttl\":300}");
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + via.process.apiPort()
                        + "/v1/messages"))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body + "]}")).build();
        String whole;
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            whole = r.statusCode() + " " + r.body();
            if (r.statusCode() == 200) {
                List<String> each = new ArrayList<>();
                Matcher m = RESULT.matcher(r.body());
                while (m.find()) {
                    each.add(m.group(1) + (m.group(2) != null ? " {\"seq\":" + m.group(2) + "}"
                            : " {\"error\":" + m.group(3) + "}"));
                }
                if (each.size() == to.size()) {
                    return each;
                }
                whole = "unreadable " + whole; // failed on in the test's thread
            }
        } catch (IOException e) {
            whole = "error " + e;
        }
        return Collections.nCopies(to.size(), whole);
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
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + via.process.apiPort()
                + "/v1/clients/k" + client + "?code=503&reason=test")).timeout(Duration.ofSeconds(5)).DELETE().build();
        try {
            http.send(req, HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            // a node down: that client stays
        }
    }

    /** The received seqs near {@code seq}, in order. */
    private static String around(java.util.Collection<Long> received, long seq) {
        List<Long> sorted = new ArrayList<>(received);
        Collections.sort(sorted);
        int at = 0;
        while (at < sorted.size() && sorted.get(at) < seq) {
            at++;
        }
        return sorted.subList(Math.max(0, at - 3), Math.min(sorted.size(), at + 3)) + " (" + sorted.size()
                + " in all)";
    }

    private static String tail(String s, int chars) {
        return s.substring(Math.max(0, s.length() - chars));
    }
}
