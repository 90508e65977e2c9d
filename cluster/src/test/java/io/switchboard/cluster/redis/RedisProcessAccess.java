package io.switchboard.cluster.redis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@link RedisProcess} for tests in other packages. */
public final class RedisProcessAccess implements AutoCloseable {
    private final RedisProcess redis;

    private RedisProcessAccess(RedisProcess redis) {
        this.redis = redis;
    }

    /** @param extraArgs more redis-server options, such as {@code --appendonly yes} */
    public static RedisProcessAccess start(String... extraArgs) throws IOException {
        return new RedisProcessAccess(RedisProcess.start(extraArgs));
    }

    /** Kills redis-server (SIGKILL). */
    public void stop() {
        redis.stop();
    }

    /** Starts it again on its port, from what it persisted (nothing, unless asked to at {@link #start}). */
    public void startAgain() throws IOException {
        redis.startAgain();
    }

    public String uri() {
        return redis.uri();
    }

    /**
     * For a test's failure report: {@code clientId}'s record and the seqs and expiry times of its stored messages,
     * as {@code redis-cli} reads them now (or why it could not).
     */
    public String describeClient(String clientId) {
        return "record " + cli("HGETALL", Keys.record(clientId)) + "; stored (seq:expiresAtMs:payload) "
                + cli("LRANGE", Keys.stored(clientId), "0", "-1").replaceAll(":k\\d+-(\\d+) p+", ":#$1");
    }

    private String cli(String command, byte[] key, String... more) {
        List<String> args = new ArrayList<>(List.of("redis-cli", "-p", String.valueOf(redis.port), command,
                new String(key, StandardCharsets.UTF_8)));
        args.addAll(List.of(more));
        try {
            Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(5, TimeUnit.SECONDS);
            return "[" + out.strip().replace('\n', ' ') + "]";
        } catch (IOException e) {
            return "(redis-cli: " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }

    @Override
    public void close() {
        redis.close();
    }
}
