package io.switchboard.service;

/**
 * What the API tells about one client: a snapshot taken on the session's loop. Immutable.
 *
 * @param remoteAddress its connection's address, null when offline
 * @param protocol      what its connection speaks ({@code swb}, {@code mqtt}), null when offline
 */
public record ClientInfo(String id, boolean online, long sinceMs, String remoteAddress, String protocol, long lastSeq,
                         long ackedSeq, int queued, long queuedBytes, int inFlight) {
}
