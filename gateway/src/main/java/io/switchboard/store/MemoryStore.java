package io.switchboard.store;

/**
 * Keeps stored messages in memory only, in the sessions' own queues: nothing outlives the process. Every append
 * completes at once, on the caller's thread, so a push costs nothing more than without a store. Stateless and
 * thread-safe.
 */
public final class MemoryStore implements MessageStore {
    @Override
    public void append(String clientId, long seq, long expiresAtMs, byte[] payload, Appended done) {
        done.done(null);
    }

    @Override
    public void acknowledged(String clientId, long seq) {
    }

    @Override
    public void forget(String clientId) {
    }

    @Override
    public void recover(Recovery into) {
    }

    @Override
    public void close() {
    }
}
