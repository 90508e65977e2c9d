package io.switchboard.protocol.mqtt;

/**
 * The packet ids of one connection's unacknowledged QoS 1 messages and the seqs they carry, in the order they were
 * written (MQTT acknowledges in that order); also used as a plain set of packet ids (QoS 2 messages received and not
 * released). Packet ids count 1 to 65535 and wrap. Exists only while something is in flight; owned by the
 * connection's event loop.
 */
final class Inflight {
    private long[] seqs = new long[8];
    private char[] packetIds = new char[8];
    private int head;
    private int size;
    private char nextPacketId = 1;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    private int slot(int i) {
        return (head + i) & (seqs.length - 1);
    }

    /** Adds a message with {@code seq}; returns the packet id it is sent with. */
    int add(long seq) {
        char id = nextPacketId;
        nextPacketId = (char) (id == 0xFFFF ? 1 : id + 1);
        append(seq, id);
        return id;
    }

    void addPacketId(int packetId) {
        append(0, (char) packetId);
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

    long firstSeq() {
        return seqs[head];
    }

    /**
     * Acknowledges the message sent with {@code packetId} and every one before it (acknowledgements come in order;
     * a client that skips one acknowledges it with a later one). False when no message in flight has that id.
     */
    boolean acknowledge(int packetId) {
        int at = indexOf(packetId);
        if (at < 0) {
            return false;
        }
        head = slot(at + 1);
        size -= at + 1;
        return true;
    }

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

    private int indexOf(int packetId) {
        for (int i = 0; i < size; i++) {
            if (packetIds[slot(i)] == packetId) {
                return i;
            }
        }
        return -1;
    }
}
