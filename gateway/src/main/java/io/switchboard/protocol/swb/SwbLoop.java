package io.switchboard.protocol.swb;

import io.switchboard.session.SessionShard;

/**
 * What a connection needs to reach, as one reference: the server-wide context and its own loop's state.
 * One per event loop, shared by all its connections (one field per connection instead of two).
 */
final class SwbLoop {
    final SwbContext shared;
    final SessionShard shard;

    SwbLoop(SwbContext shared, SessionShard shard) {
        this.shared = shared;
        this.shard = shard;
    }
}
