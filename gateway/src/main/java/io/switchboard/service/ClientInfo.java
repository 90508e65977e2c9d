package io.switchboard.service;

/**
 * What the API tells about one client: a snapshot taken on the session's loop (in a cluster, of the client's record
 * when another node holds it). Immutable.
 *
 * @param remoteAddress its connection's address, null when offline or held by another node
 * @param protocol      what its connection speaks ({@code swb}, {@code mqtt}), null when offline or elsewhere
 * @param node          in a cluster, the node that holds it (null when offline); null in one process
 */
public record ClientInfo(String id, boolean online, long sinceMs, String remoteAddress, String protocol, long lastSeq,
                         long ackedSeq, int queued, long queuedBytes, int inFlight, String node) {
    /** A client of this process, outside a cluster. */
    public ClientInfo(String id, boolean online, long sinceMs, String remoteAddress, String protocol, long lastSeq,
                      long ackedSeq, int queued, long queuedBytes, int inFlight) {
        this(id, online, sinceMs, remoteAddress, protocol, lastSeq, ackedSeq, queued, queuedBytes, inFlight, null);
    }
}
