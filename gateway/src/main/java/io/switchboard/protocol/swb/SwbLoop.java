package io.switchboard.protocol.swb;

import io.switchboard.loop.LoopState;
import io.switchboard.swb.SwbClientFrameParser;

/**
 * What a connection needs to reach, as one reference: the server-wide context and its own loop's state.
 * One per event loop, shared by all its connections (one field per connection instead of two).
 */
final class SwbLoop {
    final SwbContext shared;
    final LoopState loop;
    /** The SWB/1 parser with this server's limits: it keeps no per-connection state, so all connections share it. */
    final SwbClientFrameParser parser;

    SwbLoop(SwbContext shared, LoopState loop) {
        this.shared = shared;
        this.loop = loop;
        this.parser = new SwbClientFrameParser(shared.config().maxLineBytes, shared.config().maxPayloadBytes);
    }
}
