package io.switchboard.session;

import io.switchboard.service.ClientInfo;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import io.switchboard.service.Reach;
import io.switchboard.store.MessageStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Which node holds which client, when several gateway processes share one namespace of clients (a cluster): the
 * session core asks it before a {@code HELLO} completes, tells it when a connection ends, and hands it the pushes
 * for clients not connected here. {@link #LOCAL}, the single-process default, holds every client itself; the
 * default methods answer as one process does (no other node).
 *
 * <p>Thread-safe. Every callback runs exactly once, on any thread (the caller moves work to its own loop).
 */
public interface ClientDirectory {
    /** One process, no cluster: never asked anything but {@link #shared()}. */
    ClientDirectory LOCAL = new ClientDirectory() {
        @Override
        public boolean shared() {
            return false;
        }

        @Override
        public void claim(String clientId, Claimed done) {
            throw new UnsupportedOperationException("no cluster");
        }

        @Override
        public void release(String clientId, long epoch, long lastSeq) {
        }

        @Override
        public void pushElsewhere(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done) {
            done.accept(PushResult.OFFLINE);
        }

    };

    /**
     * True when other nodes may hold clients: then the core keeps no offline sessions of its own (the directory
     * keeps their stored messages) and sends pushes for clients it does not hold to {@link #pushElsewhere}.
     */
    boolean shared();

    /**
     * Claims {@code clientId} for this node (its connection sent a valid {@code HELLO}): the claim gets an epoch
     * higher than any before it, and the node that held the client before is told to close its connection.
     */
    void claim(String clientId, Claimed done);

    /**
     * The connection that held {@code clientId} under {@code epoch} ended: the client is offline unless a newer
     * claim already took it; {@code lastSeq} is the highest seq its session gave, for the next owner to continue.
     */
    void release(String clientId, long epoch, long lastSeq);

    /**
     * A push for a client not connected to this node: to its owner node, or kept for it while offline
     * ({@code ttlSec > 0}); {@code done} gets the answer the API gives.
     */
    void pushElsewhere(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done);

    /**
     * Many pushes for clients not connected here (a batch): {@code done} gets each request's answer with its index,
     * once per request, in any order. A cluster groups them per owner node; by default they go one by one.
     */
    default void pushManyElsewhere(List<PushRequest> requests, java.util.function.ObjIntConsumer<PushResult> done) {
        for (int i = 0; i < requests.size(); i++) {
            int index = i;
            PushRequest r = requests.get(i);
            pushElsewhere(r.clientId(), r.payload(), r.ttlSec(), res -> done.accept(res, index));
        }
    }

    /**
     * A shard of this node got its first subscriber of {@code filter} ({@code added}), or lost its last: a cluster
     * sends topic messages only to nodes with a subscriber. On the shard's loop; must not block.
     */
    default void topicInterest(String filter, boolean wildcard, boolean added) {
    }

    /**
     * This node kept {@code payload} (with {@code properties}, null: none) as {@code topic}'s retained message (an
     * empty one deleted it): a cluster keeps it for the nodes that start later and hands it to the others, so an MQTT
     * subscriber gets it on any node.
     */
    default void retained(String topic, byte[] payload, MessageProperties properties) {
    }

    /**
     * A broadcast ({@code topic} null) or a topic message made on this node, for the clients of every other node
     * (each gets it once); completes with the number of clients they reached, counting a node that did not answer
     * in time as none and naming it.
     */
    default CompletableFuture<Reach> fanOut(String topic, byte[] payload, MessageProperties properties) {
        return CompletableFuture.completedFuture(Reach.of(0)); // one process: no other node
    }

    /** This node's name in the cluster; null in one process. */
    default String node() {
        return null;
    }

    /**
     * What the cluster knows of a client not held here: online on another node, or offline with stored messages;
     * completes with null when it knows nothing of it.
     */
    default CompletableFuture<ClientInfo> info(String clientId) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Closes the connection of a client held by another node with {@code BYE code reason}; completes with false
     * when no node holds it (or the one that does did not answer in time).
     */
    default CompletableFuture<Boolean> disconnect(String clientId, int code, String reason) {
        return CompletableFuture.completedFuture(false);
    }

    /**
     * Whether a node claimed {@code clientId} after the claim made under {@code epoch} (the client connected again,
     * here or elsewhere); false when no newer claim is known. Completes exceptionally when the cluster cannot say.
     */
    default CompletableFuture<Boolean> claimedSince(String clientId, long epoch) {
        return CompletableFuture.completedFuture(false); // one process: its own sessions tell
    }

    /**
     * MQTT's exactly once across nodes: {@code clientId}'s session (one that outlives its connection) received a
     * QoS 2 message with {@code packetId} and delivered it. The directory keeps the id with the client's keys until
     * {@link #qos2Released}, at most {@code keepMs} after the last change, and the claim of the client's next
     * connection, on any node, parks what it keeps in {@link SessionRegistry#unreleasedQos2} for that connection to
     * take. Issued in order with the client's other QoS 2 calls from this node. Completes (never exceptionally)
     * once the id is kept, or could not be: the PUBREC waits for it, so that a client that reconnects elsewhere the
     * moment it has its PUBREC finds the id there. One process keeps nothing here (its connections park their ids
     * themselves): completed at once, null.
     */
    default java.util.concurrent.CompletableFuture<Void> qos2Received(String clientId, int packetId, long keepMs) {
        return null;
    }

    /** {@code clientId}'s {@code PUBREL} for {@code packetId} came (or its PUBREC refused the message). */
    default void qos2Released(String clientId, int packetId) {
    }

    /** {@code clientId}'s unreleased QoS 2 ids are void: a new session started clean. */
    default void qos2Forgotten(String clientId) {
    }

    /** The outcome of {@link #claim}. */
    interface Claimed {
        /**
         * The client is this node's under {@code epoch}; {@code lastSeq} is the highest seq it was ever given and
         * {@code kept} its stored, unacknowledged, unexpired messages in seq order.
         */
        void claimed(long epoch, long lastSeq, List<MessageStore.Stored> kept);

        /** The claim could not be made (the cluster is unreachable): {@code reason} is one line for the client. */
        void failed(String reason);
    }
}
