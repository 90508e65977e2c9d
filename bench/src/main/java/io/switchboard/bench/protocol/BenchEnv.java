package io.switchboard.bench.protocol;

/**
 * What a bench connection reports to: the run's counters and latency recorders, and its event loop's heartbeat
 * sweep. One per client event loop; called only on that loop.
 */
public interface BenchEnv {
    /** The connection is open: count it and include it in the loop's once-a-second heartbeat sweep. */
    void opened(BenchConnection c);

    /** The connection closed: stop counting it as open and drop it from the sweep. */
    void closed(BenchConnection c);

    /** The protocol handshake completed, {@code handshakeNs} after the connect started. */
    void established(long handshakeNs);

    /** A message arrived (a push, a broadcast, a publish, a verified echo). */
    void messageReceived();

    /** A push arrived {@code latencyUs} after its intended send time. */
    void pushLatency(long latencyUs);

    /** A broadcast arrived {@code latencyUs} after it was requested. */
    void broadcastLatency(long latencyUs);

    /** The connection sent a heartbeat (a PING, a PINGREQ, an echo probe). */
    void pingSent();

    /** Something went wrong; {@code reason} is short and shared by all connections it happens to (a counter key). */
    void error(String reason);
}
