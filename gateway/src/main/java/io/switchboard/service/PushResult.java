package io.switchboard.service;

/**
 * Outcome of one push, as the backend API reports it. Immutable.
 *
 * @param status    HTTP-like status: 200 accepted, 404 client offline (ttl 0), 413 too large,
 *                  429 client queue full, 503 draining, store failure or the server's queued-bytes budget used up,
 *                  507 the message store is full
 * @param seq       the seq assigned, or 0 when refused
 * @param delivered true when written to the client's connection at once; false when queued
 */
public record PushResult(int status, long seq, boolean delivered, String error) {
    public static final PushResult OFFLINE = new PushResult(404, 0, false, "client is not connected and ttl is 0");
    public static final PushResult QUEUE_FULL = new PushResult(429, 0, false, "client queue is full");
    public static final PushResult TOO_LARGE = new PushResult(413, 0, false, "payload larger than --max-payload");
    /** The connected client takes no message this large (an MQTT 5 client's Maximum Packet Size). */
    public static final PushResult TOO_LARGE_FOR_CLIENT = new PushResult(413, 0, false,
            "payload larger than the connected client accepts (its MQTT Maximum Packet Size)");
    public static final PushResult DRAINING = new PushResult(503, 0, false, "server is draining");
    /** In a cluster: the client is connecting to the node that holds it; a retry finds its session. */
    public static final PushResult CONNECTING = new PushResult(503, 0, false,
            "the client is connecting to its node right now; retry");
    public static final PushResult TOO_MANY_STORED = new PushResult(429, 0, false,
            "client is not connected and the server keeps no more offline sessions (--max-offline-sessions)");
    /** Every client's queues together hold as many payload bytes as the server allows: the backend may retry later. */
    public static final PushResult QUEUED_TOTAL_FULL = new PushResult(503, 0, false,
            "the server's budget for queued messages is used up (--max-queued-total)");
    /** The store keeps as many stored bytes as it may (--max-store-bytes): the backend may retry later. */
    public static final PushResult STORE_FULL = new PushResult(507, 0, false,
            "the message store is full (--max-store-bytes): stored pushes are refused until clients acknowledge "
                    + "or messages expire");
    /** The status of a push whose stored message the store could not keep. */
    public static final int STORE_FAILED_STATUS = 503;

    public static PushResult accepted(long seq, boolean delivered) {
        return new PushResult(200, seq, delivered, null);
    }

    /** The message store could not keep a stored message (a disk or Redis fault): the backend may retry. */
    public static PushResult storeFailed(Throwable cause) {
        return new PushResult(STORE_FAILED_STATUS, 0, false, "the message store could not keep the message: "
                + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
    }

    public boolean ok() {
        return status == 200;
    }
}
