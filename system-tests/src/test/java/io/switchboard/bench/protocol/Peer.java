package io.switchboard.bench.protocol;

import io.switchboard.server.FreePorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real peer server (mosquitto, redis-server, nats-server) started for one test on a free loopback port, with a
 * throw-away configuration; ready once it logs its ready line. {@link #close()} stops it.
 */
final class Peer implements AutoCloseable {
    private static final List<String> DIRS = List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin");

    private final Process process;
    private final Path dir;
    final int port;
    private final List<String> log = new ArrayList<>();

    private Peer(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /** The installed binary, from PATH or the usual directories. */
    static Optional<Path> binary(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(DIRS);
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, name)).filter(Files::isExecutable)
                .findFirst();
    }

    static Peer mosquitto(Path binary) throws IOException {
        int port = FreePorts.belowTheEphemeralRange();
        Path dir = Files.createTempDirectory("bench-mosquitto");
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\npersistence false\n"
                + "log_dest stderr\nlog_type error\nlog_type warning\nlog_type information\n"
                + "connection_messages false\n");
        return start(dir, port, " running", binary.toString(), "-c", conf.toString());
    }

    static Peer redis(Path binary) throws IOException {
        int port = FreePorts.belowTheEphemeralRange();
        Path dir = Files.createTempDirectory("bench-redis");
        return start(dir, port, "Ready to accept connections", binary.toString(), "--port", String.valueOf(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString());
    }

    static Peer nats(Path binary) throws IOException {
        int port = FreePorts.belowTheEphemeralRange();
        Path dir = Files.createTempDirectory("bench-nats");
        return start(dir, port, "Server is ready", binary.toString(), "-a", "127.0.0.1", "-p", String.valueOf(port));
    }

    private static Peer start(Path dir, int port, String readyLine, String... command) throws IOException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        Peer peer = new Peer(p, dir, port);
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (peer.log) {
                        peer.log.add(line);
                    }
                    if (line.contains(readyLine)) {
                        ready.complete(null);
                    }
                }
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
            ready.completeExceptionally(new IOException(command[0] + " exited: " + peer.log()));
        }, "peer-log");
        reader.setDaemon(true);
        reader.start();
        try {
            ready.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            peer.close();
            throw new IOException(command[0] + " did not get ready: " + peer.log(), e);
        }
        return peer;
    }

    List<String> log() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
