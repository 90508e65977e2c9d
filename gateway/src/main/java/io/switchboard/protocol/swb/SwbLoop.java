package io.switchboard.protocol.swb;

import io.switchboard.session.SessionShard;
import io.switchboard.swb.SwbClientFrameParser;

/**
 * What a connection needs to reach, as one reference: the server-wide context and its own loop's state.
 * One per event loop, shared by all its connections (one field per connection instead of two).
 */
final class SwbLoop {
    final SwbContext shared;
    final SessionShard shard;
    /** The SWB/1 parser with this server's limits: it keeps no per-connection state, so all connections share it. */
    final SwbClientFrameParser parser;

    SwbLoop(SwbContext shared, SessionShard shard) {
        this.shared = shared;
        this.shard = shard;
        this.parser = new SwbClientFrameParser(shared.config().maxLineBytes, shared.config().maxPayloadBytes);
    }
}
