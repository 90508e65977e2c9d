package io.switchboard.cluster.redis;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One Lua script of the cluster (a resource beside this class), sent whole with every call ({@code EVAL}; Redis
 * keeps it compiled, found again by its hash). Not run by its hash ({@code EVALSHA}) with the body sent only when
 * Redis answers that it does not know it (after a restart, a failover, or on a Redis new to the cluster): calls are
 * pipelined, so a later call that found the script loaded would run before an earlier one retried with its body, and
 * one client's pushes (seqs, stored order, routing) came out of order (`ClusterTest.shouldKeepTheOrderOfPipelined
 * PushesWhileTheLinkComesUp` caught it, about 1 run in 20). The body costs 0.4-1.6 KB a call, and Redis its hash.
 * Immutable, thread-safe.
 */
final class Script {
    private final String name;
    private final byte[] body;
    private final ScriptOutputType output;

    private Script(String name, byte[] body, ScriptOutputType output) {
        this.name = name;
        this.body = body;
        this.output = output;
    }

    /** Loads {@code NAME.lua} from the classpath. */
    static Script load(String name, ScriptOutputType output) {
        try (InputStream in = Script.class.getResourceAsStream(name + ".lua")) {
            if (in == null) {
                throw new IllegalStateException("missing script " + name + ".lua");
            }
            return new Script(name, in.readAllBytes(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the script; completes with its reply, or exceptionally (timeout, disconnected, script error). */
    <T> CompletableFuture<T> run(RedisAsyncCommands<byte[], byte[]> redis, byte[][] keys, byte[]... args) {
        return redis.<T>eval(body, output, keys, args).toCompletableFuture();
    }

    @Override
    public String toString() {
        return name + ".lua";
    }

    /** What failed, without the {@link CompletionException} a future's stage wraps it in. */
    static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] bytes(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }
}
