package io.switchboard.client;

import io.switchboard.swb.SwbFrames;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Upstream {@code SEND}s waiting for their {@code SENT} or {@code NACK}, by send id; at most one per id.
 * Confined to the client's event loop.
 */
final class PendingSends {
    private final Map<String, CompletableFuture<Void>> pending = new HashMap<>();
    /** Sends unanswered at most; beyond, a send fails at once (429): the server would refuse it the same. */
    private final int max;

    PendingSends(int max) {
        this.max = max;
    }

    /**
     * Writes {@code SEND <id>} on the open connection {@code c}, unless a send with that id is still pending or
     * {@link #max} are. Bounded so that a connection that stalls (a server that stopped reading it, a dead peer not
     * yet noticed) does not take every send the application makes into memory until it is found dead.
     */
    void send(Connection c, String id, byte[] payload, CompletableFuture<Void> result) {
        if (pending.size() >= max && !pending.containsKey(id)) {
            result.completeExceptionally(new SwitchboardException(429, max + " sends are waiting for their answer "
                    + "(maxPendingSends, the server's --max-pending-sends): retry once some are answered"));
            return;
        }
        if (pending.putIfAbsent(id, result) != null) {
            result.completeExceptionally(new IllegalStateException("a send with id " + id + " is already pending"));
            return;
        }
        c.writeAndFlush(SwbFrames.send(c.alloc(), id, payload), f -> {
            if (!f.isSuccess() && pending.remove(id, result)) {
                result.completeExceptionally(new SwitchboardException(SwitchboardException.LOCAL,
                        "send failed: " + f.cause(), f.cause()));
            }
        });
    }

    /** {@code SENT <id>}. */
    void onSent(Frame.Sent s) {
        CompletableFuture<Void> f = pending.remove(s.id());
        if (f != null) {
            f.complete(null);
        }
    }

    /** {@code NACK <id> <code> <text>}. */
    void onNack(Frame.Nack n) {
        CompletableFuture<Void> f = pending.remove(n.id());
        if (f != null) {
            f.completeExceptionally(new SwitchboardException(n.code(), "NACK " + n.id() + " " + n.code() + " " + n.text()));
        }
    }

    /** Removes and returns the send an {@code ERR ... SEND <id>} refused, or null. */
    CompletableFuture<Void> refused(String id) {
        return pending.remove(id);
    }

    /** The connection ended: the outcome of every pending send is unknown. */
    void failAll(Throwable lost) {
        Futures.failAll(pending, lost);
    }
}
