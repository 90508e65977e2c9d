package io.switchboard.protocol.mqtt;

/**
 * The packet ids of one connection's unacknowledged QoS 1 messages and the seqs they carry, in the order they were
 * written; also used as a plain set of packet ids (QoS 2 messages received and not released). Packet ids count 1 to
 * 65535 and wrap. Exists only while something is in flight; owned by the connection's event loop.
 *
 * <p>MQTT asks clients to acknowledge in the order messages came (MQTT-4.6.0-2), but one that acknowledges by hand
 * (Paho's manual acknowledgements) may not: a message acknowledged ahead of an earlier one is only marked (its seq
 * negated) until those before it are acknowledged, so that what counts as acknowledged, everything before
 * {@link #firstSeq()}, never passes a message the client has not acknowledged (the store keeps it and it is sent
 * again at the next connection).
 */
final class Inflight {
    private long[] seqs = new long[8];
    private char[] packetIds = new char[8];
    private int head;
    private int size;
    /** Whether an id in flight is not the one its seq gives (it was taken): then every new id is checked. */
    private boolean shifted;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    private int slot(int i) {
        return (head + i) & (seqs.length - 1);
    }

    /**
     * Adds a message with {@code seq}; returns the packet id it is sent with: one that follows from the seq (1 to
     * 65535, then again), so a message sent again after a reconnect has the id it had before, as MQTT asks. The seqs
     * in flight are ascending and, but for gaps (messages of an earlier connection not kept), fewer than 65,535
     * apart: only when they are that far apart can the id be taken already, and the next free one is used.
     */
    int add(long seq) {
        if (size == 0) {
            shifted = false;
        }
        if (size >= 0xFFFF) {
            // Every id taken: the search below would never end. The connection's window keeps below this.
            throw new IllegalStateException("65,535 QoS 1 messages in flight already");
        }
        char id = packetIdOf(seq);
        if (size > 0 && (shifted || seq - firstSeq() >= 0xFFFF)) {
            while (contains(id)) {
                id = (char) (id == 0xFFFF ? 1 : id + 1);
                shifted = true;
            }
        }
        append(seq, id);
        return id;
    }

    static char packetIdOf(long seq) {
        return (char) (Long.remainderUnsigned(seq - 1, 0xFFFF) + 1);
    }

    void addPacketId(int packetId) {
        append(0, (char) packetId);
    }

    /**
     * Adds a QoS 2 id; {@code inherited}: one the session's last connection left unreleased (marked in its seq
     * slot, unused in a set of QoS 2 ids), until {@link #adopt}.
     */
    void addPacketId(int packetId, boolean inherited) {
        append(inherited ? 1 : 0, (char) packetId);
    }

    /** Whether {@code packetId} is here as inherited and not seen on this connection yet. */
    boolean inherited(int packetId) {
        int at = indexOf(packetId);
        return at >= 0 && seqs[slot(at)] == 1;
    }

    /** {@code packetId} was seen on this connection: no longer inherited. */
    void adopt(int packetId) {
        int at = indexOf(packetId);
        if (at >= 0) {
            seqs[slot(at)] = 0;
        }
    }

    private void append(long seq, char packetId) {
        if (size == seqs.length) {
            long[] s = new long[size * 2];
            char[] p = new char[size * 2];
            for (int i = 0; i < size; i++) {
                s[i] = seqs[slot(i)];
                p[i] = packetIds[slot(i)];
            }
            seqs = s;
            packetIds = p;
            head = 0;
        }
        seqs[slot(size)] = seq;
        packetIds[slot(size)] = packetId;
        size++;
    }

    /** The seq of the oldest message not acknowledged (never one only marked: those are past the first). */
    long firstSeq() {
        return seqs[head];
    }

    /**
     * Acknowledges the message sent with {@code packetId}: the first in flight leaves, with the ones after it that
     * were acknowledged ahead of it; a later one is marked. False when no message waiting for its acknowledgement
     * has that id (a second PUBACK for one, or an id of an earlier connection).
     */
    boolean acknowledge(int packetId) {
        int at = indexOf(packetId);
        if (at < 0) {
            return false;
        }
        if (at > 0) {
            seqs[slot(at)] = -seqs[slot(at)];
            return true;
        }
        do {
            head = slot(1);
            size--;
        } while (size > 0 && seqs[head] < 0);
        return true;
    }

    /** Whether a message waiting for its acknowledgement (or, as a set, an id) has {@code packetId}. */
    boolean contains(int packetId) {
        return indexOf(packetId) >= 0;
    }

    /** Removes {@code packetId} wherever it is (a set of QoS 2 ids); false when absent. */
    boolean removePacketId(int packetId) {
        int at = indexOf(packetId);
        if (at < 0) {
            return false;
        }
        for (int i = at; i < size - 1; i++) {
            seqs[slot(i)] = seqs[slot(i + 1)];
            packetIds[slot(i)] = packetIds[slot(i + 1)];
        }
        size--;
        return true;
    }

    /** The packet ids, in order. */
    int[] packetIds() {
        int[] ids = new int[size];
        for (int i = 0; i < size; i++) {
            ids[i] = packetIds[slot(i)];
        }
        return ids;
    }

    /** Where {@code packetId} is, among the entries not marked acknowledged; -1 when none has it. */
    private int indexOf(int packetId) {
        for (int i = 0; i < size; i++) {
            if (packetIds[slot(i)] == packetId && seqs[slot(i)] >= 0) {
                return i;
            }
        }
        return -1;
    }
}
