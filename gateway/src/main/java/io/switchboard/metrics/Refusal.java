package io.switchboard.metrics;

import java.util.Locale;

/** Every reason the gateway refuses or ends something; each is a labelled counter in metrics and stats. */
public enum Refusal {
    MAX_CONNECTIONS,
    PER_IP_LIMIT,
    ACCEPT_RATE,
    DRAINING,
    HANDSHAKE_TIMEOUT,
    /** With {@code --accept-proxy}: a malformed PROXY header, or none complete within its timeout. */
    PROXY_HEADER,
    /** With {@code --accept-proxy}: a connection from a peer outside {@code --accept-proxy-from}. */
    PROXY_UNTRUSTED,
    IDLE_TIMEOUT,
    /**
     * On a TLS listener ({@code --tls-cert}): a handshake or record the peer got wrong (plain text, a certificate or
     * protocol version it refused); the connection is closed.
     */
    TLS_FAILED,
    AUTH_FAILED,
    /** A session's token expired (its {@code exp} plus leeway passed) before the client sent a fresh one. */
    TOKEN_EXPIRED,
    MALFORMED_FRAME,
    /** A client used up its frame budget ({@code --client-rate}): not read until the next second. */
    THROTTLED,
    /** A client over its frame budget {@code --client-rate-grace} seconds in a row: closed with 429. */
    THROTTLED_CLOSED,
    /** A WebSocket upgrade that was not one (not GET, wrong path or version, no key) or did not complete in time. */
    WS_HANDSHAKE,
    /** A browser page from an origin not in {@code --ws-allowed-origins} asked for a WebSocket: answered 403. */
    WS_ORIGIN,
    FRAME_TOO_LARGE,
    TAKEN_OVER,
    CLIENT_OFFLINE,
    QUEUE_FULL,
    OFFLINE_SESSIONS_LIMIT,
    /** Every client's queues together held {@code --max-queued-total} payload bytes; the push was answered 503. */
    QUEUED_TOTAL,
    /** The message store could not keep a stored message (ttl > 0); the push was answered 503. */
    STORE_FAILED,
    /** The message store held {@code --max-store-bytes}; the stored push was answered 507. */
    STORE_FULL,
    /**
     * In a cluster ({@code --cluster}): Redis did not answer in time, so a handshake was refused with 503 or a push
     * that needed it was answered 503.
     */
    CLUSTER_UNAVAILABLE,
    /** In a cluster: the node holding the client did not answer a push routed to it in time (answered 503). */
    CLUSTER_NODE_SILENT,
    /**
     * In a cluster: a push reached the node that is claiming its client (a HELLO there is between its claim in Redis
     * and its session): answered 503, retry. Kept aside instead, it would miss the session, which starts from the
     * stored messages its claim read.
     */
    CLUSTER_CLIENT_CONNECTING,
    /**
     * In a cluster: a client connected here was sent to resume ({@code BYE 503}) because a stored message was kept
     * for it as for an offline client, while the other nodes took this one for dead (its lease had lapsed) or while
     * Redis had lost its claim: its session here would never have been given it.
     */
    CLUSTER_RESUME,
    PAYLOAD_TOO_LARGE,
    TOPIC_QUEUE_FULL,
    /** A retained message for a new topic beyond {@code --max-retained} or {@code --max-retained-bytes}. */
    RETAINED_FULL,
    TOO_MANY_SUBSCRIPTIONS,
    SEND_NACKED,
    /** An MQTT client's PUBLISH (or will) on a push topic ({@code --mqtt-push-topic}), where only the backend publishes. */
    PUBLISH_NOT_AUTHORIZED,
    SEND_TOO_MANY_PENDING,
    DISCONNECTED_BY_API,
    API_UNAUTHORIZED,
    API_BAD_REQUEST,
    /** One API connection more than {@code --api-max-connections}: answered 503 and closed. */
    API_MAX_CONNECTIONS,
    /** An API request's headers or body did not arrive within {@code --api-header-timeout}/{@code --api-body-timeout}. */
    API_TIMEOUT,
    /**
     * An API request whose body would take the bodies the API holds while they arrive past
     * {@code --api-max-body-memory}: answered 503 (retry) and its connection (HTTP/2: its stream) closed.
     */
    API_BODY_MEMORY;

    /** The gateway's reason for an admission refusal; null when admitted. */
    public static Refusal of(io.switchboard.limits.ConnectionGuard.Refused r) {
        return r == null ? null : switch (r) {
            case ACCEPT_RATE -> ACCEPT_RATE;
            case MAX_CONNECTIONS -> MAX_CONNECTIONS;
            case PER_IP_LIMIT -> PER_IP_LIMIT;
        };
    }

    /** Label value in metrics: lower case with underscores. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
