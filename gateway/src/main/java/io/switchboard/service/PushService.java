package io.switchboard.service;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The one door into the session core for the backend API (and later cluster routing): pushes, broadcasts, topic
 * messages, client snapshots and disconnects.
 *
 * <p>Thread-safe: call from any thread. The work runs on the event loops that own the sessions; every returned
 * future completes, usually on one of those loops (on the caller's thread when refused early), and completes
 * exceptionally when a task on a loop fails, so a caller waiting for it never hangs; the implementation counts and
 * logs such a failure where it happens. A method may also throw on the caller's thread (e.g. when a loop no longer
 * accepts tasks); callers treat that like a failed future.
 */
public interface PushService {
    /**
     * What a queued message costs the budget of {@code --max-queued-total} beyond its payload (the message object,
     * its queue slot, a stored one's index entry), so that many small or empty messages are bounded too.
     */
    int QUEUED_MESSAGE_OVERHEAD_BYTES = 64;

    /** A stored push whose store has not reported within this long is answered 503 (the longest a push waits). */
    long STORE_ANSWER_TIMEOUT_MS = 10_000;

    /** Pushes one message to one client; {@code ttlSec > 0} keeps it for an offline client that long. */
    CompletableFuture<PushResult> push(String clientId, byte[] payload, int ttlSec);

    /** Pushes many messages, one task per owning loop; completes with one result per request, in request order. */
    CompletableFuture<PushResult[]> pushBatch(List<PushRequest> requests);

    /**
     * Sends to every connected client (ttl 0); completes with the number of clients reached and, in a cluster, the
     * nodes that did not answer.
     */
    CompletableFuture<Reach> broadcast(byte[] payload);

    /** Sends to every connected subscriber of {@code topic} (ttl 0); completes with what it reached. */
    CompletableFuture<Reach> publish(String topic, byte[] payload);

    /**
     * Keeps {@code payload} as {@code topic}'s retained message for new MQTT subscriptions (an empty one deletes
     * it): false when the retained messages are full ({@code --max-retained}, {@code --max-retained-bytes}).
     */
    boolean retain(String topic, byte[] payload);

    /** A snapshot of one client; completes with {@code null} when the client is unknown. */
    CompletableFuture<ClientInfo> info(String clientId);

    /**
     * Closes the client's connection with {@code BYE code reason}; completes with {@code false} when it was not
     * connected.
     */
    CompletableFuture<Boolean> disconnect(String clientId, int code, String reason);

    /**
     * Writes out the messages pushed so far from the calling thread when it is one of the session loops (a no-op
     * elsewhere): the API calls it at the end of each read, before its answers, so that a client's message leaves
     * before the answer that says it was delivered, and a burst of pushes to one client leaves in one write.
     */
    default void flushPushes() {
    }
}
