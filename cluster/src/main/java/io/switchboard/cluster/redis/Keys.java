package io.switchboard.cluster.redis;

import java.nio.charset.StandardCharsets;

/**
 * The cluster's key names in Redis. A client's keys share the hash tag {@code {id}}, so every script touches one
 * slot and runs unchanged on Redis Cluster; a node's inbox is tagged with its name, the leases share one tag.
 */
final class Keys {
    private static final String PREFIX = "swb:";
    private static final String SUBSCRIBERS = "sub:{";
    /** The set of node names that ever joined (their leases say which are alive). */
    static final byte[] NODES = bytes(PREFIX + "nodes");
    /** A hash: node name -> its online clients, as the node last published it. */
    static final byte[] ONLINE = bytes(PREFIX + "online");

    private Keys() {
    }

    /** The client's record, a hash: {@code n} owner node, {@code e} claim epoch, {@code s} last seq. */
    static byte[] record(String clientId) {
        return bytes(PREFIX + "{" + clientId + "}:o");
    }

    /** The client's stored messages, a list of {@code seq:expiresAtMs:payload}. */
    static byte[] stored(String clientId) {
        return bytes(PREFIX + "{" + clientId + "}:q");
    }

    /** The MQTT QoS 2 packet ids the client's session received and has not released, a set (qos2.lua). */
    static byte[] unreleasedQos2(String clientId) {
        return bytes(PREFIX + "{" + clientId + "}:r");
    }

    /** Claims of the client that their nodes gave up waiting for, undone: a hash by token (see unclaim.lua). */
    static byte[] undoneClaims(String clientId) {
        return bytes(PREFIX + "{" + clientId + "}:v");
    }

    /** Both of a client's keys, as the scripts take them. */
    static byte[][] client(String clientId) {
        return new byte[][] {record(clientId), stored(clientId)};
    }

    /**
     * The nodes with a subscriber of exactly {@code filter} (no wildcard), a set of "node process" entries (the
     * process as its node's lease holds it, so that an entry a killed process left is known for one).
     */
    static byte[] subscribers(String filter) {
        return bytes(PREFIX + SUBSCRIBERS + filter + "}");
    }

    /** A node's entry in a topic subscriber set ({@link #subscribers}, {@link #WILDCARD_NODES}): its process named. */
    static byte[] subscriberEntry(String node, String process) {
        return bytes(node + " " + process);
    }

    /** Every key of the cluster, as SCAN's {@code MATCH} reads it. */
    static final String EVERY_KEY = PREFIX + "*";

    /** Whether {@code key} is a client's record ({@link #record}). */
    static boolean isRecord(String key) {
        return key.startsWith(PREFIX + "{") && key.endsWith("}:o");
    }

    /** Whether {@code key} is a set of a topic filter's subscriber nodes ({@link #subscribers}). */
    static boolean isSubscribers(String key) {
        return key.startsWith(PREFIX + SUBSCRIBERS) && key.endsWith("}");
    }

    /**
     * Present while Redis holds what {@code node} wrote (its clients' claims, its topic subscriber entries); found
     * missing (Redis restarted empty, or failed over to a replica that had not seen it), the node puts them back.
     */
    static byte[] kept(String node) {
        return bytes(PREFIX + "{nodes}:kept:" + node);
    }

    /** The nodes with a subscriber of some wildcard filter (they get every topic message), entries as above. */
    static final byte[] WILDCARD_NODES = bytes(PREFIX + "wildcard-nodes");

    /**
     * Every topic's retained message (MQTT), a hash: topic -> its properties and payload (see
     * {@code RedisDirectory.retainedValue}). "v2": the hash {@code swb:retained} of earlier versions held the payload
     * alone, and a node of one version must not read the other's values.
     */
    static final byte[] RETAINED = bytes(PREFIX + "retained:v2");

    /**
     * The earlier versions' hash of retained messages (topic -> payload): read at start for the topics {@link
     * #RETAINED} has none of (a rolling upgrade); a topic retained or deleted since is removed from it.
     */
    static final byte[] RETAINED_EARLIER = bytes(PREFIX + "retained");

    /**
     * The node's lease: present while the node is alive (refreshed well before it expires). Every node's lease is
     * under the one hash tag {@code {nodes}}, so that a node reads them all with one {@code MGET} (one slot on Redis
     * Cluster too) instead of one {@code GET} per node: N nodes cost Redis N commands per refresh, not N squared.
     */
    static byte[] lease(String node) {
        return bytes(PREFIX + "{nodes}:lease:" + node);
    }

    /**
     * The sweeps of forgotten nodes under way, a hash: forgotten node -> {@code "<fence µs> <SCAN cursor> <node
     * sweeping it> <the forgotten node's last process>"} (the last part empty when unknown, absent when written by an
     * earlier version), so that a sweep whose node died is carried on by another ({@code ForgottenNodeSweep}).
     * Under the leases' hash tag: the script that takes a sweep over checks the sweeper's lease in the same slot.
     */
    static final byte[] SWEEPS = bytes(PREFIX + "{nodes}:sweeps");

    /** A hash: node name -> the {@code host:port} its direct link listens on ({@code NodeLinks}). */
    static final byte[] LINKS = bytes(PREFIX + "{nodes}:links");

    /**
     * The secret a node proves it knows (an HMAC of a fresh nonce) before another node takes requests on a direct
     * link; set by the first node that joins, put back by any node if Redis lost it.
     */
    static final byte[] LINK_SECRET = bytes(PREFIX + "{nodes}:link-secret");

    /** The node's inbox, a stream other nodes add pushes, replies and takeover notices to. */
    static byte[] inbox(String node) {
        return bytes(PREFIX + "inbox:{" + node + "}");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
