package io.switchboard.client;

import io.switchboard.swb.SwbFrames;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The client's topics (re-subscribed on every connection) and the {@code SUB}/{@code UNSUB} requests waiting for
 * the server's {@code OK} or {@code ERR}. Subscriptions belong to the server's session, which can outlive a
 * connection (a resume while it still keeps stored messages), so a topic dropped while no connection could say so is
 * unsubscribed on the next one. Confined to the client's event loop.
 */
final class Subscriptions {
    private final Set<String> topics = new LinkedHashSet<>();
    /** Topics dropped while no connection could carry the {@code UNSUB}: sent on the next welcome. */
    private final Set<String> unsubscribeOnWelcome = new LinkedHashSet<>();
    private final Map<String, CompletableFuture<Void>> pendingSubs = new HashMap<>();
    private final Map<String, CompletableFuture<Void>> pendingUnsubs = new HashMap<>();

    /** Adds {@code topic}; writes {@code SUB} now when {@code connected} is not null, else on the next welcome. */
    void subscribe(String topic, CompletableFuture<Void> result, Connection connected) {
        CompletableFuture<Void> pending = pendingSubs.get(topic);
        if (pending != null) {
            Futures.forward(pending, result);
            return;
        }
        topics.add(topic);
        unsubscribeOnWelcome.remove(topic);
        // An UNSUB still in flight is undone by this SUB, which the server reads after it: a later unsubscribe
        // must send its own UNSUB instead of waiting on that one.
        CompletableFuture<Void> undone = pendingUnsubs.remove(topic);
        if (undone != null) {
            undone.complete(null);
        }
        pendingSubs.put(topic, result);
        if (connected != null) {
            connected.writeAndFlush(SwbFrames.line(connected.alloc(), "SUB", topic), null);
        }
    }

    /** Drops {@code topic}; writes {@code UNSUB} when {@code open} is not null, else completes at once. */
    void unsubscribe(String topic, CompletableFuture<Void> result, Connection open) {
        topics.remove(topic);
        CompletableFuture<Void> sub = pendingSubs.remove(topic);
        if (sub != null) {
            sub.completeExceptionally(new SwitchboardException(SwitchboardException.LOCAL,
                    "unsubscribed from " + topic + " before the server confirmed the subscription"));
        }
        if (open == null) {
            unsubscribeOnWelcome.add(topic);
            result.complete(null);
            return;
        }
        CompletableFuture<Void> pending = pendingUnsubs.get(topic);
        if (pending != null) {
            Futures.forward(pending, result);
            return;
        }
        pendingUnsubs.put(topic, result);
        open.writeAndFlush(SwbFrames.line(open.alloc(), "UNSUB", topic), null);
    }

    /**
     * Writes {@code UNSUB} for every topic dropped while disconnected, then {@code SUB} for every topic, on a newly
     * welcomed connection (flushed with its read batch).
     */
    void resubscribe(Connection c) {
        for (String topic : unsubscribeOnWelcome) {
            // Tracked like any UNSUB: if this connection ends before the OK, the next one sends it again.
            pendingUnsubs.putIfAbsent(topic, new CompletableFuture<>());
            c.write(SwbFrames.line(c.alloc(), "UNSUB", topic));
        }
        unsubscribeOnWelcome.clear();
        for (String topic : topics) {
            c.write(SwbFrames.line(c.alloc(), "SUB", topic));
        }
    }

    /** {@code OK SUB <topic>} or {@code OK UNSUB <topic>}. */
    void onOk(Frame.Ok ok) {
        Map<String, CompletableFuture<Void>> pending =
                "SUB".equals(ok.verb()) ? pendingSubs : "UNSUB".equals(ok.verb()) ? pendingUnsubs : null;
        CompletableFuture<Void> f = pending == null ? null : pending.remove(ok.subject());
        if (f != null) {
            f.complete(null);
        }
    }

    /** Removes and returns the subscription an {@code ERR ... SUB <topic>} refused (dropping the topic), or null. */
    CompletableFuture<Void> subRefused(String topic) {
        topics.remove(topic);
        return pendingSubs.remove(topic);
    }

    /** Removes and returns the unsubscription an {@code ERR ... UNSUB <topic>} refused, or null. */
    CompletableFuture<Void> unsubRefused(String topic) {
        return pendingUnsubs.remove(topic);
    }

    /**
     * An unanswered {@code UNSUB} is as good as done for the caller (the topic is no longer re-subscribed); it is sent
     * again on the next connection in case the server kept the session with its subscriptions.
     */
    void connectionEnded() {
        unsubscribeOnWelcome.addAll(pendingUnsubs.keySet());
        // Copied first: a completed future's dependents may call back into this client (subscribe again, which
        // changes the map), and an exception here left the client connected in name, never reconnecting.
        var done = pendingUnsubs.values().toArray(new CompletableFuture<?>[0]);
        pendingUnsubs.clear();
        for (CompletableFuture<?> f : done) {
            f.complete(null);
        }
    }

    /** The client gave up or closed: pending subscriptions fail (the topics stay for a later connect). */
    void failPending(Throwable t) {
        Futures.failAll(pendingSubs, t);
    }
}
