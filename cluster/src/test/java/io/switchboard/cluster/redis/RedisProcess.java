package io.switchboard.cluster.redis;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server (the Debian package) for one test, on a free loopback port, persisting nothing; it can be
 * stopped and started again on the same port to play an outage. Missing binary: the test is skipped outside CI and
 * fails in CI (whose {@code .ci/run} installs it).
 */
final class RedisProcess implements AutoCloseable {
    private static final List<String> DIRS = List.of("/usr/bin", "/usr/sbin", "/usr/local/bin");

    final int port;
    private final Path binary;
    private final Path dir;
    private Process process;
    private final List<String> log = new ArrayList<>();
    private final List<String> extraArgs;

    private RedisProcess(Path binary, int port, Path dir, List<String> extraArgs) {
        this.binary = binary;
        this.port = port;
        this.dir = dir;
        this.extraArgs = extraArgs;
    }

    /** @param extraArgs more redis-server options, such as {@code --requirepass SECRET} */
    static RedisProcess start(String... extraArgs) throws IOException {
        Path binary = DIRS.stream().map(d -> Path.of(d, "redis-server")).filter(Files::isExecutable).findFirst()
                .orElse(null);
        if (binary == null) {
            if (System.getenv("CI") != null) {
                throw new IllegalStateException("redis-server is not installed (apt-get install redis-server)");
            }
            assumeTrue(false, "redis-server is not installed (apt-get install redis-server)");
        }
        // It may be restarted on it while the nodes reconnect: not a port one of their connections could take.
        int port = io.switchboard.server.FreePorts.belowTheEphemeralRange();
        RedisProcess r = new RedisProcess(binary, port, Files.createTempDirectory("swb-cluster-redis"),
                List.of(extraArgs));
        r.startAgain();
        return r;
    }

    String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Starts redis-server (again) on its port; returns once it accepts connections. */
    void startAgain() throws IOException {
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--port", String.valueOf(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString()));
        command.addAll(extraArgs);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (log) {
                        log.add(line);
                    }
                    if (line.contains("Ready to accept connections")) {
                        ready.complete(null);
                    }
                }
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
            ready.completeExceptionally(new IOException("redis-server exited"));
        }, "redis-log");
        reader.setDaemon(true);
        reader.start();
        process = p;
        try {
            ready.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            stop();
            synchronized (log) {
                throw new IOException("redis-server did not get ready: " + log, e);
            }
        }
    }

    /** Kills redis-server at once (an outage); {@link #startAgain} brings it back, empty. */
    void stop() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    /** Stops redis-server and deletes what it wrote (an append-only file, when asked for one). */
    @Override
    public void close() {
        stop();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind
        }
    }
}
