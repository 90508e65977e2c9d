package io.switchboard.cluster.redis;

import java.io.IOException;

/** {@link RedisProcess} for tests in other packages. */
public final class RedisProcessAccess implements AutoCloseable {
    private final RedisProcess redis;

    private RedisProcessAccess(RedisProcess redis) {
        this.redis = redis;
    }

    public static RedisProcessAccess start() throws IOException {
        return new RedisProcessAccess(RedisProcess.start());
    }

    public String uri() {
        return redis.uri();
    }

    @Override
    public void close() {
        redis.close();
    }
}
