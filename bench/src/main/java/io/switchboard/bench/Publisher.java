package io.switchboard.bench;

import java.io.IOException;

/** Publishes the bench's pushes on one connection of the protocol named by {@code --publish-via}. */
interface Publisher extends AutoCloseable {
    /** Publishes {@code payload} to client {@code clientId}; one thread calls it. */
    void publish(String clientId, String payload) throws IOException;

    @Override
    void close();
}
