package io.switchboard.cluster.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One Lua script of the cluster (a resource beside this class), run by its SHA-1 ({@code EVALSHA}) and sent whole
 * only when Redis does not know it yet (after a restart or a failover). Immutable, thread-safe.
 */
final class Script {
    private final String name;
    private final byte[] body;
    private final String sha;
    private final ScriptOutputType output;

    private Script(String name, byte[] body, ScriptOutputType output) {
        this.name = name;
        this.body = body;
        this.output = output;
        try {
            this.sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
        CompletableFuture<T> byHash = redis.<T>evalsha(sha, output, keys, args).toCompletableFuture();
        return byHash.handle((reply, e) -> {
            Throwable cause = unwrap(e);
            if (cause instanceof RedisNoScriptException) {
                return redis.<T>eval(body, output, keys, args).toCompletableFuture();
            }
            return cause == null ? CompletableFuture.completedFuture(reply) : CompletableFuture.<T>failedFuture(cause);
        }).thenCompose(f -> f);
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
