package io.switchboard.session;

import io.switchboard.store.MessageStore;
import java.util.List;

/**
 * A hello whose client the cluster's directory claimed for this node: the connection waiting for its session, with
 * what the directory kept for the client, loaded into the session when the handshake completes. Immutable.
 */
record ClusterHandshake(Handshake connection, long epoch, long lastSeq, List<MessageStore.Stored> kept)
        implements Handshake {
    @Override
    public SessionShard shard() {
        return connection.shard();
    }

    @Override
    public boolean open() {
        return connection.open();
    }

    @Override
    public void complete(Session session) {
        connection.complete(session);
    }

    @Override
    public void superseded() {
        connection.superseded();
    }

    @Override
    public void unavailable(String reason) {
        connection.unavailable(reason);
    }
}
