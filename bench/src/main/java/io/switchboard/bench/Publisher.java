package io.switchboard.bench;

import java.io.IOException;

/** Publishes the bench's pushes on one connection of the protocol named by {@code --publish-via}. */
interface Publisher extends AutoCloseable {
    /** Publishes {@code payload} to client {@code clientId}; one thread calls it. */
    void publish(String clientId, String payload) throws IOException;

    /**
     * Publishes {@code payload} to every client: Switchboard's {@code POST /v1/broadcast}, or the peer's channel
     * every bench client subscribes to when a run times a broadcast ({@code bench:all}, {@code bench.all},
     * {@code bench/all}).
     */
    void broadcast(String payload) throws IOException;

    @Override
    void close();
}
