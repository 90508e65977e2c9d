package io.switchboard.service;

/** What the API tells about one client: a snapshot taken on the session's loop. Immutable. */
public record ClientInfo(String id, boolean online, long sinceMs, String remoteAddress, long lastSeq, long ackedSeq,
                         int queued, long queuedBytes, int inFlight) {
}
