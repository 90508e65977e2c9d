package io.switchboard.client;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Helpers for the futures a client hands out. Stateless. */
final class Futures {
    private Futures() {
    }

    /** Completes {@code to} as {@code from} completes. */
    static <T> void forward(CompletableFuture<T> from, CompletableFuture<T> to) {
        from.whenComplete((v, t) -> {
            if (t != null) {
                to.completeExceptionally(t);
            } else {
                to.complete(v);
            }
        });
    }

    /** Fails and forgets every future in {@code pending}. */
    static void failAll(Map<String, CompletableFuture<Void>> pending, Throwable t) {
        if (pending.isEmpty()) {
            return;
        }
        // Copy first: a failed future's dependents may call back into this client.
        var futures = pending.values().toArray(new CompletableFuture<?>[0]);
        pending.clear();
        for (CompletableFuture<?> f : futures) {
            f.completeExceptionally(t);
        }
    }
}
