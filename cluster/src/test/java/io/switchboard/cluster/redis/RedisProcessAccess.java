package io.switchboard.cluster.redis;

import java.io.IOException;

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

    @Override
    public void close() {
        redis.close();
    }
}
