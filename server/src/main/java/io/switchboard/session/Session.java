package io.switchboard.session;

import io.switchboard.loop.LoopState;
import io.switchboard.metrics.Refusal;

/**
 * One client's delivery state, independent of the wire protocol: its seq counter, the messages not yet
 * acknowledged (retained ones survive a reconnect), and the live {@link ClientLink} when connected.
 *
 * <p>Owned by one event loop at a time ({@link #owner()}): every method except {@link #id()} and
 * {@link #owner()} runs on that loop. Ownership moves to the loop of a newer connection during a takeover,
 * handed over through the loops' task queues ({@link SessionRegistry#execute}). While idle and connected a
 * session holds no message storage at all.
 */
public final class Session {
    static final byte ONLINE = 1;
    static final byte OFFLINE = 2;
    /** Handed to a newer connection whose handshake has not completed yet: pushes are queued, not refused. */
    static final byte TRANSFERRING = 3;
    /** Removed from the registry; tasks that still reach it re-resolve the id. */
    static final byte DEAD = 4;

    private final String id;
    private final SessionRegistry registry;
    private volatile LoopState owner;
    private long lastSeq;
    private long ackedSeq;
    private long lastSentSeq;
    private MessageRing ring;
    private int sentCount;
    private long queuedBytes;
    private ClientLink link;
    private byte state;
    private long sinceMs;
    private int offlineIndex = -1;

    Session(String id, SessionRegistry registry, LoopState owner, byte state, long nowMs) {
        this.id = id;
        this.registry = registry;
        this.owner = owner;
        this.state = state;
        this.sinceMs = nowMs;
    }

    public String id() {
        return id;
    }

    /** The loop that owns this session now (may change during a takeover). */
    public LoopState owner() {
        return owner;
    }

    void owner(LoopState newOwner) {
        this.owner = newOwner;
    }

    public boolean online() {
        return state == ONLINE;
    }

    boolean dead() {
        return state == DEAD;
    }

    byte state() {
        return state;
    }

    void state(byte s) {
        this.state = s;
    }

    public long lastSeq() {
        return lastSeq;
    }

    public long ackedSeq() {
        return ackedSeq;
    }

    public int queued() {
        return ring == null ? 0 : ring.size();
    }

    public long queuedBytes() {
        return queuedBytes;
    }

    public int inFlight() {
        return sentCount;
    }

    /** When the current connection completed its handshake, or when the client went offline. */
    public long sinceMs() {
        return sinceMs;
    }

    public ClientLink link() {
        return link;
    }

    public int offlineIndex() {
        return offlineIndex;
    }

    public void offlineIndex(int i) {
        this.offlineIndex = i;
    }

    /**
     * Accepts one push: assigns the next seq, queues it, and writes it at once when the client is connected and
     * its window and socket have room. {@code ttlSec == 0} means deliver only to the current connection.
     */
    PushResult push(byte[] payload, int ttlSec, boolean flush) {
        if (state == DEAD) {
            return PushResult.RETRY;
        }
        if (ttlSec == 0 && link == null && state != TRANSFERRING) {
            return PushResult.OFFLINE;
        }
        long nowMs = owner.nowMs();
        dropExpiredHead(nowMs);
        SessionRegistry.Limits limits = registry.limits();
        if (queued() >= limits.maxQueuedMessages() || queuedBytes + payload.length > limits.maxQueuedBytes()) {
            return PushResult.QUEUE_FULL;
        }
        long seq = ++lastSeq;
        long expiresAtMs = ttlSec == 0 ? 0 : nowMs + ttlSec * 1000L;
        if (ring == null) {
            ring = new MessageRing();
        }
        ring.add(new Message(seq, payload, expiresAtMs));
        queuedBytes += payload.length;
        registry.metrics().pushesAccepted.increment();
        pump(flush);
        return PushResult.accepted(seq, lastSentSeq >= seq);
    }

    /** Cumulative acknowledgement: every message up to {@code seq} was received. */
    public void ack(long seq) {
        long upTo = Math.min(seq, lastSentSeq);
        if (upTo <= ackedSeq) {
            return;
        }
        ackedSeq = upTo;
        long removed = 0;
        while (ring != null && !ring.isEmpty() && ring.first().seq() <= upTo) {
            Message m = ring.removeFirst();
            queuedBytes -= m.payload().length;
            sentCount--;
            removed++;
        }
        registry.metrics().messagesAcked.add(removed);
        releaseRingIfEmpty();
    }

    /** Writes queued messages while the window and the socket have room. */
    public void pump(boolean flush) {
        if (link == null || ring == null) {
            return;
        }
        int window = registry.limits().windowMessages();
        long nowMs = owner.nowMs();
        int written = 0;
        while (sentCount < ring.size() && sentCount < window && link.isWritable()) {
            Message m = ring.get(sentCount);
            if (m.expired(nowMs)) {
                if (sentCount == 0) {
                    ring.removeFirst();
                    queuedBytes -= m.payload().length;
                    registry.metrics().messagesExpired.increment();
                    continue;
                }
                // Behind an unacknowledged message: skip it; the client's next cumulative ACK removes it.
                sentCount++;
                lastSentSeq = m.seq();
                registry.metrics().messagesExpired.increment();
                continue;
            }
            link.writeMessage(m);
            sentCount++;
            lastSentSeq = m.seq();
            written++;
        }
        if (written > 0) {
            registry.metrics().messagesWritten.add(written);
            if (flush) {
                link.flush();
            }
        }
        releaseRingIfEmpty();
    }

    /**
     * Binds a new connection. Messages up to {@code resumeSeq} count as received; retained ones after it will be
     * re-sent by the next {@link #pump}. The caller writes its welcome (with {@link #lastSeq()}) first, then pumps.
     */
    public void attach(ClientLink newLink, long resumeSeq, long nowMs) {
        if (resumeSeq > 0) {
            long upTo = Math.min(resumeSeq, lastSeq);
            while (ring != null && !ring.isEmpty() && ring.first().seq() <= upTo) {
                queuedBytes -= ring.removeFirst().payload().length;
            }
            ackedSeq = Math.max(ackedSeq, upTo);
            releaseRingIfEmpty();
        }
        owner.removeOffline(this);
        link = newLink;
        state = ONLINE;
        sentCount = 0;
        lastSentSeq = ackedSeq;
        sinceMs = nowMs;
    }

    /**
     * Unbinds {@code oldLink} when it closes. {@code ttl=0} messages are dropped (never re-sent); retained ones stay.
     * Returns true when the session has nothing left to keep and should be removed from the registry.
     */
    boolean detach(ClientLink oldLink, byte nextState, long nowMs) {
        if (link != oldLink || link == null) {
            return false;
        }
        link = null;
        dropUnretained();
        sentCount = 0;
        lastSentSeq = ackedSeq;
        sinceMs = nowMs;
        state = nextState;
        return ring == null && nextState == OFFLINE;
    }

    /** Drops expired retained messages (offline sweep); returns true when nothing is left. */
    boolean purgeExpired(long nowMs) {
        if (ring != null) {
            int[] n = new int[1];
            queuedBytes -= ring.removeIf(m -> m.expired(nowMs), n);
            registry.metrics().messagesExpired.add(n[0]);
            recountSent();
            releaseRingIfEmpty();
        }
        return ring == null;
    }

    private void dropUnretained() {
        if (ring != null) {
            int[] n = new int[1];
            queuedBytes -= ring.removeIf(m -> !m.retained(), n);
            registry.metrics().messagesDropped.add(n[0]);
            releaseRingIfEmpty();
        }
    }

    private void dropExpiredHead(long nowMs) {
        while (ring != null && sentCount == 0 && !ring.isEmpty() && ring.first().expired(nowMs)) {
            queuedBytes -= ring.removeFirst().payload().length;
            registry.metrics().messagesExpired.increment();
        }
        releaseRingIfEmpty();
    }

    private void recountSent() {
        int n = 0;
        while (ring != null && n < ring.size() && ring.get(n).seq() <= lastSentSeq) {
            n++;
        }
        sentCount = n;
    }

    private void releaseRingIfEmpty() {
        if (ring != null && ring.isEmpty()) {
            ring = null;
            queuedBytes = 0;
        }
    }

    /** For refusal accounting by callers. */
    static Refusal refusalOf(PushResult r) {
        return switch (r.status()) {
            case 404 -> Refusal.CLIENT_OFFLINE;
            case 413 -> Refusal.PAYLOAD_TOO_LARGE;
            case 429 -> Refusal.QUEUE_FULL;
            default -> Refusal.DRAINING;
        };
    }
}
