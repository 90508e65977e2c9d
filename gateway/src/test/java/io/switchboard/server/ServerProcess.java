package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code switchboard server} in a process of its own (this test class path, {@link ServerMain}), for what only a
 * process shows: its heap limit, its open-file limit. {@link #close()} sends SIGTERM (a drain), then kills. Not
 * thread-safe.
 */
final class ServerProcess implements AutoCloseable {
    private static final Pattern CLIENTS = Pattern.compile("clients on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern API = Pattern.compile("backend API on http://127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final StringBuilder output = new StringBuilder();
    private int port;
    private int apiPort;

    private ServerProcess(Process process) {
        this.process = process;
    }

    /**
     * Starts the server on ephemeral ports (unless {@code serverArgs} name {@code --port} and {@code --api-port}) with
     * {@code jvmFlags}, after the shell command {@code shellPrefix} (such as
     * {@code ulimit -n 300}; empty for none), and waits for its banner.
     */
    static ServerProcess start(String shellPrefix, List<String> jvmFlags, String... serverArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", shellPrefix + "\nexec \"$@\"", "bash",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+ExitOnOutOfMemoryError", "-XX:+UseCompactObjectHeaders", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ServerMain.class.getName(),
                "--bind", "127.0.0.1"));
        if (!List.of(serverArgs).contains("--port")) {
            cmd.addAll(List.of("--port", "0", "--api-port", "0")); // ephemeral, read from the banner
        }
        if (!List.of(serverArgs).contains("--store") && !List.of(serverArgs).contains("--data-dir")) {
            cmd.addAll(List.of("--store", "memory")); // many run at once: none needs a data directory of its own
        }
        cmd.addAll(List.of(serverArgs));
        ServerProcess p = new ServerProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        p.readBanner();
        return p;
    }

    int port() {
        return port;
    }

    int apiPort() {
        return apiPort;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** What the process printed so far. */
    String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    /** Reads the banner up to the API's port, then drains the rest of the output on a daemon thread. */
    private void readBanner() throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        for (int i = 0; i < 100 && apiPort == 0; i++) {
            String line = out.readLine();
            if (line == null) {
                fail("the server exited before announcing its API:\n" + output());
            }
            append(line);
            Matcher c = CLIENTS.matcher(line);
            if (c.find()) {
                port = Integer.parseInt(c.group(1));
            }
            Matcher a = API.matcher(line);
            if (a.find()) {
                apiPort = Integer.parseInt(a.group(1));
            }
        }
        if (apiPort == 0 || port == 0) {
            fail("no client and API ports in the first 100 lines:\n" + output());
        }
        // The limits line follows the API's; read it here so that tests can look at it.
        append(out.readLine());
        append(out.readLine());
        Thread drain = new Thread(() -> {
            try {
                for (String l = out.readLine(); l != null; l = out.readLine()) {
                    append(l);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "server-output");
        drain.setDaemon(true);
        drain.start();
    }

    private void append(String line) {
        synchronized (output) {
            output.append(line).append('\n');
        }
    }

    /** Waits up to {@code sec} seconds for the process to exit by itself; its exit code. */
    int exitCode(long sec) throws InterruptedException {
        if (!process.waitFor(sec, TimeUnit.SECONDS)) {
            fail("the server did not exit within " + sec + " s:\n" + output());
        }
        return process.exitValue();
    }

    /** Kills the process with SIGKILL (no drain, no shutdown hook, nothing flushed) and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            fail("the server survived SIGKILL");
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: a drain, quick without clients
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS); // gone, its ports too, before anything starts on them
        }
    }
}
