package io.switchboard.session;

import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import io.switchboard.service.PushResult;

/**
 * One client's delivery state, independent of the wire protocol: its seq counter, the messages not yet
 * acknowledged (retained ones survive a reconnect), and the live {@link ClientLink} when connected.
 *
 * <p>Owned by one event loop at a time ({@link #owner()}): every method except {@link #id()} and
 * {@link #owner()} runs on that loop. Ownership moves to the loop of a newer connection during a takeover,
 * handed over through the loops' task queues ({@link SessionRegistry#execute}). While idle and connected a
 * session holds no message storage at all: its queue exists only while messages are unacknowledged.
 */
public final class Session {
    static final byte ONLINE = 1;
    static final byte OFFLINE = 2;
    /** Handed to a newer connection whose handshake has not completed yet: pushes are queued, not refused. */
    static final byte TRANSFERRING = 3;
    /** Removed from the registry; tasks that still reach it re-resolve the id. */
    static final byte DEAD = 4;
    /** What {@link #push} answers for a session that died on the way: the caller resolves the id again. */
    static final PushResult RETRY = new PushResult(-1, 0, false, "session moved");

    private final String id;
    private volatile SessionShard owner;
    private DeliveryQueue queue;
    private ClientLink link;
    /** Topic filters this session subscribes to (they outlive a connection of the same session); null when none. */
    private java.util.ArrayList<String> topics;
    /** Those of {@link #topics} subscribed with MQTT 5's No Local (not sent this client's own messages); or null. */
    private java.util.ArrayList<String> noLocalTopics;
    private long lastSeq;
    private long ackedSeq;
    /** In a cluster, the epoch of this node's claim on the client (fences what it writes); 0 in one process. */
    private long epoch;
    /** Seconds since {@link #SINCE_EPOCH_SEC}: an int is good until 2088. */
    private int sinceSec;
    /**
     * The client's frame budget ({@code --client-rate}): frames it may still send in loop second
     * {@link #budgetSec}. Kept by the session, so a client cannot refill it by reconnecting.
     */
    private int budgetTokens;
    private int budgetSec;
    /**
     * Until when (seconds since {@link #SINCE_EPOCH_SEC}) the session outlives its connection even with nothing
     * stored: an MQTT persistent session's expiry; 0 = not at all (the session ends with its last stored message).
     */
    private int keepUntilSec;
    /** How long this session is kept once its connection ends (see {@link #keepOfflineFor}); 0: it ends with it. */
    private int keepForSec;
    /** Consecutive seconds the budget ran out, up to 127. */
    private byte overBudgetSec;
    /** A frame spent the last of the budget this loop second (work charged beyond it is a debt, not this). */
    private boolean ranOutByFrames;
    private byte state;
    /**
     * Turns taken by work handed to this session's loop ({@link #takeTurn}), from any thread; and the next turn to
     * run, on the owner's loop ({@link SessionTurns}).
     */
    private volatile int turnsTaken;
    private int turnsServed;
    private static final java.lang.invoke.VarHandle TURNS_TAKEN;

    static {
        try {
            TURNS_TAKEN = java.lang.invoke.MethodHandles.lookup().findVarHandle(Session.class, "turnsTaken", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** 2020-01-01T00:00:00Z, the origin of {@link #sinceSec}. */
    private static final long SINCE_EPOCH_SEC = 1_577_836_800L;

    Session(String id, SessionShard owner, byte state, long nowMs, long seqOrigin) {
        this.id = id;
        this.owner = owner;
        this.state = state;
        this.lastSeq = seqOrigin;
        this.ackedSeq = seqOrigin;
        this.budgetSec = Integer.MIN_VALUE; // the first frame finds a full budget
        since(nowMs);
    }

    /** In a cluster, the epoch of this node's claim on the client; 0 in one process. */
    public long epoch() {
        return epoch;
    }

    void epoch(long epoch) {
        this.epoch = epoch;
    }

    private void since(long nowMs) {
        this.sinceSec = (int) (nowMs / 1000 - SINCE_EPOCH_SEC);
    }

    public String id() {
        return id;
    }

    /**
     * Counts one frame from the client against its budget of {@code rate} frames a second, up to {@code burst}
     * saved: false when none was left this second. Owner loop only.
     */
    public boolean spendFrame(int nowSec, int rate, int burst) {
        if (!frameBudgetLeft(nowSec, rate, burst)) {
            return false;
        }
        if (--budgetTokens == 0) {
            ranOutByFrames = true;
        }
        return true;
    }

    /**
     * Charges {@code frames} frames' worth of work to the budget, beyond what is left as a debt (at most a minute of
     * the rate) that the next seconds pay back before the client is read again; true when some is left after.
     */
    public boolean spendFrames(int nowSec, int rate, int burst, int frames) {
        frameBudgetLeft(nowSec, rate, burst); // the refill of a new second first
        budgetTokens = (int) Math.max(-60L * rate, (long) budgetTokens - frames);
        return budgetTokens > 0;
    }

    /**
     * Keeps this session (its subscriptions and acknowledgement state) for {@code seconds} after its connection
     * closes, though nothing is stored for it (an MQTT persistent session); 0 ends it with its connection as
     * before. Owner loop only.
     */
    public void keepOfflineFor(long seconds, long nowMs) {
        keepForSec = (int) Math.max(0, Math.min(Integer.MAX_VALUE, seconds));
        restartExpiry(nowMs);
    }

    /** Whether this session outlives its connection by an expiry (an MQTT persistent session's). Owner loop only. */
    public boolean keptAfterItsConnection() {
        return keepForSec > 0;
    }

    /** The expiry counts from now: from when the connection ended, not from when it began. */
    private void restartExpiry(long nowMs) {
        keepUntilSec = keepForSec == 0 ? 0
                : (int) Math.min(Integer.MAX_VALUE, nowMs / 1000 - SINCE_EPOCH_SEC + keepForSec);
    }

    /** Whether an expiry keeps this session past its connection at {@code nowMs} (see {@link #keepOfflineFor}). */
    public boolean keptAt(long nowMs) {
        return keepUntilSec != 0 && nowMs / 1000 - SINCE_EPOCH_SEC < keepUntilSec;
    }

    /** Whether the client may send another frame this second. {@code nowSec} (refilling at a new second). */
    public boolean frameBudgetLeft(int nowSec, int rate, int burst) {
        if (nowSec < budgetSec) {
            // Counted so far by another loop whose coarse clock is ahead (a takeover moved the session): this
            // second is the same one, not a reason to take tokens away; the next one refills as usual.
            budgetSec = nowSec;
        }
        if (nowSec != budgetSec) {
            long elapsed = (long) nowSec - budgetSec;
            // Counted when frames spent the budget (a debt of work charged beyond, spendFrames, is paid back by the
            // seconds that follow, the client not read meanwhile, and is not a reason to close it; but a client
            // whose frames spend it to the last one every second is closed after the grace, debt or not).
            boolean ranOutLastSecond = ranOutByFrames && elapsed == 1;
            ranOutByFrames = false;
            overBudgetSec = ranOutLastSecond ? (byte) Math.min(overBudgetSec + 1, Byte.MAX_VALUE) : 0;
            budgetTokens = (int) Math.min(burst, budgetTokens + elapsed * rate);
            budgetSec = nowSec;
        }
        return budgetTokens > 0;
    }

    /** Seconds in a row, until the last one, in which the client used up its frame budget. Owner loop only. */
    public int overBudgetSeconds() {
        return overBudgetSec;
    }

    /** The loop that owns this session now (may change during a takeover). */
    public SessionShard owner() {
        return owner;
    }

    /**
     * The turn of work about to be handed to this session's loop; from any thread. The work then runs in that turn
     * ({@link SessionTurns#run}), so that work handed over later never runs first: not even when the session moves
     * to another loop meanwhile and the earlier work, queued on the loop it left, follows it there late.
     */
    int takeTurn() {
        return (int) TURNS_TAKEN.getAndAdd(this, 1);
    }

    /** The turn that runs next; on the owner's loop. */
    int turnServed() {
        return turnsServed;
    }

    /** The turn that ran is done; on the owner's loop. */
    void turnDone() {
        turnsServed++;
    }

    /**
     * Hands the session to another shard during a takeover, on the current owner's loop: its subscriptions leave
     * this shard's topic index and join the new one's in {@link #indexSubscriptions()} on the new loop.
     */
    void moveTo(SessionShard newOwner) {
        if (topics != null) {
            for (String t : topics) {
                owner.topics().remove(t, this);
            }
        }
        this.owner = newOwner;
    }

    /**
     * Loads what a store kept across a restart into a new offline session: the seq counter continues after
     * {@code lastSeq}, so a client never sees a seq twice; on the owner's loop.
     */
    void restore(long lastSeq, java.util.List<io.switchboard.store.MessageStore.Stored> kept) {
        this.lastSeq = Math.max(this.lastSeq, lastSeq);
        this.ackedSeq = kept.isEmpty() ? this.lastSeq : kept.get(0).seq() - 1;
        for (io.switchboard.store.MessageStore.Stored m : kept) {
            if (queue == null) {
                queue = new DeliveryQueue(ackedSeq, registry().queuedBytes());
            }
            queue.add(new Message(m.seq(), m.payload(), m.expiresAtMs()));
            this.lastSeq = Math.max(this.lastSeq, m.seq());
        }
    }

    // ---- subscriptions

    /** Outcome of {@link #subscribe}. */
    public enum Subscribed { ADDED, ALREADY, LIMIT }

    /** Subscribes to {@code filter} unless already subscribed or at {@code max} subscriptions; on the owner's loop. */
    public Subscribed subscribe(String filter, int max) {
        return subscribe(filter, max, false);
    }

    /**
     * As {@link #subscribe(String, int)}; with {@code noLocal}, messages this client publishes itself are not sent
     * to it through this filter (MQTT 5). Subscribing again to the same filter replaces that option.
     */
    public Subscribed subscribe(String filter, int max, boolean noLocal) {
        if (topics != null && topics.contains(filter)) {
            setNoLocal(filter, noLocal);
            return Subscribed.ALREADY;
        }
        int n = topics == null ? 0 : topics.size();
        if (n >= max) {
            return Subscribed.LIMIT;
        }
        if (topics == null) {
            topics = new java.util.ArrayList<>(2);
        }
        topics.add(filter);
        owner.topics().add(filter, this);
        setNoLocal(filter, noLocal);
        return Subscribed.ADDED;
    }

    private void setNoLocal(String filter, boolean noLocal) {
        if (noLocal && !isNoLocal(filter)) {
            if (noLocalTopics == null) {
                noLocalTopics = new java.util.ArrayList<>(1);
            }
            noLocalTopics.add(filter);
        } else if (!noLocal && noLocalTopics != null && noLocalTopics.remove(filter) && noLocalTopics.isEmpty()) {
            noLocalTopics = null;
        }
    }

    /** Whether this session subscribed to {@code filter} with No Local: its own messages do not come back. */
    boolean isNoLocal(String filter) {
        return noLocalTopics != null && noLocalTopics.contains(filter);
    }

    /** Drops the subscription to {@code filter}; false when there was none. On the owner's loop. */
    public boolean unsubscribe(String filter) {
        if (topics == null || !topics.remove(filter)) {
            return false;
        }
        owner.topics().remove(filter, this);
        setNoLocal(filter, false);
        if (topics.isEmpty()) {
            topics = null;
        }
        return true;
    }

    public int subscriptionCount() {
        return topics == null ? 0 : topics.size();
    }

    /** Puts every subscription into the owner's topic index (again): after a move to another shard. */
    void indexSubscriptions() {
        if (topics != null) {
            for (String t : topics) {
                owner.topics().add(t, this);
            }
        }
    }

    /** Drops every subscription: a connection that starts afresh (no resume) makes its own; on the owner's loop. */
    public void clearSubscriptions() {
        unsubscribeAll();
    }

    /** Drops every subscription (the session is being removed). */
    void unsubscribeAll() {
        if (topics != null) {
            for (String t : topics) {
                owner.topics().remove(t, this);
            }
            topics = null;
            noLocalTopics = null;
        }
    }

    public boolean online() {
        return state == ONLINE;
    }

    /** Kept without a connection (not connected, nor being taken over by one). */
    public boolean offline() {
        return state == OFFLINE;
    }

    /** Ended: no longer in the registry (a later connection of the client gets a new session). */
    public boolean dead() {
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
        return queue == null ? 0 : queue.size();
    }

    public long queuedBytes() {
        return queue == null ? 0 : queue.bytes;
    }

    public int inFlight() {
        return queue == null ? 0 : queue.sentCount;
    }

    /** When the current connection completed its handshake, or when the client went offline. */
    public long sinceMs() {
        return (sinceSec + SINCE_EPOCH_SEC) * 1000;
    }

    public ClientLink link() {
        return link;
    }

    private SessionRegistry registry() {
        return owner.registry();
    }

    private GatewayMetrics metrics() {
        return owner.registry().metrics();
    }

    /**
     * Accepts one push: assigns the next seq, queues it, and writes it at once when the client is connected and
     * its window and socket have room. {@code expiresAtMs == 0} (a push with ttl 0) means deliver only to the
     * current connection; otherwise it is a stored message, kept until acknowledged or expired.
     */
    PushResult push(byte[] payload, long expiresAtMs, boolean flush) {
        return push(payload, expiresAtMs, flush, null);
    }

    /** {@link #push(byte[], long, boolean)} of a message published to {@code topic} (null: to the client itself). */
    PushResult push(byte[] payload, long expiresAtMs, boolean flush, String topic) {
        return push(payload, expiresAtMs, flush, topic, null);
    }

    /** As above, with the publisher's name/value {@code properties} (null: none). */
    PushResult push(byte[] payload, long expiresAtMs, boolean flush, String topic, MessageProperties properties) {
        return push(payload, expiresAtMs, flush, topic, properties, null);
    }

    /** As above; {@code share}: the same array goes to many clients (null: a payload of its own). */
    PushResult push(byte[] payload, long expiresAtMs, boolean flush, String topic, MessageProperties properties,
                    SharedPayload share) {
        if (state == DEAD) {
            return RETRY;
        }
        if (expiresAtMs == 0 && link == null && state != TRANSFERRING) {
            return PushResult.OFFLINE;
        }
        long nowMs = owner.nowMs();
        dropExpiredHead(nowMs);
        long bytes = payload.length + (properties == null ? 0 : properties.bytes());
        if (queueFull(bytes) && (!dropExpiredUnsent(nowMs) || queueFull(bytes))) {
            return PushResult.QUEUE_FULL;
        }
        long seq = lastSeq + 1;
        Message m = new Message(seq, payload, expiresAtMs, topic, properties, share);
        if (link != null && !link.takes(m)) {
            return PushResult.TOO_LARGE_FOR_CLIENT;
        }
        if (!offer(m) && !(dropExpiredUnsent(nowMs) && offer(m))) {
            releaseQueueIfEmpty();
            return PushResult.QUEUED_TOTAL_FULL;
        }
        lastSeq = seq;
        metrics().pushesAccepted.increment();
        pump(flush);
        return PushResult.accepted(seq, queue == null || queue.lastSentSeq >= seq);
    }

    /**
     * Takes back message {@code seq}, answered as not accepted (the store failed to keep it), unless it was written to
     * a connection already (it stays then: a duplicate at worst when the backend sends it again). Else every retry
     * of a push during a store outage would queue one more copy for a client that is away. Returns true when taken.
     */
    boolean withdraw(long seq) {
        if (queue == null || seq <= queue.writtenUpTo || seq <= queue.lastSentSeq) {
            return false;
        }
        int removed = queue.removeIf(m -> m.seq() == seq);
        releaseQueueIfEmpty();
        return removed > 0;
    }

    /** Cumulative acknowledgement: every message up to {@code seq} was received. */
    public void ack(long seq) {
        if (queue == null) {
            return;
        }
        long upTo = Math.min(seq, queue.lastSentSeq);
        if (upTo <= ackedSeq) {
            return;
        }
        ackedSeq = upTo;
        long removed = 0;
        boolean storedAcked = false;
        while (!queue.isEmpty() && queue.first().seq() <= upTo) {
            Message m = queue.removeFirst();
            storedAcked |= m.stored();
            if (!m.wasSkipped()) {
                removed++; // one skipped as expired was counted so, never written: not acknowledged
            }
        }
        if (storedAcked) {
            registry().store().acknowledged(id, upTo);
        }
        metrics().messagesAcked.add(removed);
        // Expired messages skipped behind the acknowledged ones count as in flight but the client never saw them,
        // so no ACK will ever name them: drop them here, or a window full of them would stall delivery for good.
        long nowMs = owner.nowMs();
        while (!queue.isEmpty() && queue.sentCount > 0 && queue.first().expired(nowMs)) {
            if (!queue.removeFirst().wasSkipped()) {
                metrics().messagesExpired.increment(); // one written before it expired; a skipped one was counted
            }
        }
        releaseQueueIfEmpty();
    }

    /** Writes queued messages while the window and the socket have room. */
    public void pump(boolean flush) {
        DeliveryQueue q = queue;
        if (link == null || q == null) {
            return;
        }
        int window = Math.min(registry().limits().windowMessages(), link.windowLimit());
        long nowMs = owner.nowMs();
        int written = 0;
        while (q.sentCount < q.size() && q.sentCount < window && link.isWritable() && link.hasRoom()) {
            Message m = q.get(q.sentCount);
            if (m.expired(nowMs)) {
                if (!m.wasSkipped()) { // one skipped on an earlier connection was counted then
                    metrics().messagesExpired.increment();
                }
                if (q.sentCount == 0) {
                    q.removeFirst();
                } else {
                    // Behind an unacknowledged message: skip it; the client's next cumulative ACK removes it (marked,
                    // so that it is counted as expired once, now).
                    q.replace(q.sentCount, m.skipped());
                    q.sentCount++;
                    q.lastSentSeq = m.seq();
                }
                continue;
            }
            link.writeMessage(m, m.seq() <= q.writtenUpTo);
            q.lastSentSeq = m.seq();
            q.writtenUpTo = Math.max(q.writtenUpTo, m.seq());
            written++;
            if (q.sentCount == 0 && !m.stored() && !link.acknowledgesTransient()) {
                q.removeFirst(); // delivered at most once: nothing will acknowledge it
                ackedSeq = m.seq();
            } else {
                q.sentCount++;
            }
        }
        if (written > 0) {
            metrics().messagesWritten.add(written);
            if (flush) {
                link.flush();
            }
        }
        releaseQueueIfEmpty();
    }

    /**
     * Binds a new connection. Messages up to {@code resumeSeq} count as received; retained ones after it will be
     * re-sent by the next {@link #pump}. The caller writes its welcome (with {@link #lastSeq()}) first, then pumps.
     */
    public void attach(ClientLink newLink, long resumeSeq, long nowMs) {
        keepForSec = 0; // each connection says for itself how long the session outlives it (keepOfflineFor)
        if (resumeSeq > 0) {
            long upTo = Math.min(resumeSeq, lastSeq);
            boolean storedAcked = false;
            long acked = 0;
            while (queue != null && !queue.isEmpty() && queue.first().seq() <= upTo) {
                Message m = queue.removeFirst();
                storedAcked |= m.stored();
                if (!m.wasSkipped()) {
                    acked++; // the client says it has it: acknowledged, as by an ACK (a skipped one counted expired)
                }
            }
            metrics().messagesAcked.add(acked);
            ackedSeq = Math.max(ackedSeq, upTo);
            if (storedAcked) {
                registry().store().acknowledged(id, upTo);
            }
            releaseQueueIfEmpty();
        }
        owner.removeOffline(this);
        link = newLink;
        state = ONLINE;
        if (queue != null) {
            queue.sentCount = 0;
            queue.lastSentSeq = ackedSeq;
        }
        since(nowMs);
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
        dropTransient();
        if (queue != null) {
            queue.sentCount = 0;
            queue.lastSentSeq = ackedSeq;
        }
        since(nowMs);
        restartExpiry(nowMs); // a session connected for longer than its expiry is still kept that long after
        state = nextState;
        return queue == null && nextState == OFFLINE && !keptAt(nowMs);
    }

    /** Drops {@code ttl=0} messages (never kept for a later connection); on the owning loop. */
    void dropTransient() {
        if (queue != null) {
            metrics().messagesDropped.add(queue.removeIf(m -> !m.stored()));
            releaseQueueIfEmpty();
        }
    }

    /** Drops expired retained messages (offline sweep); returns true when nothing is left. */
    boolean purgeExpired(long nowMs) {
        if (queue != null) {
            long[] counted = {0};
            queue.removeIf(m -> {
                boolean expired = m.expired(nowMs);
                if (expired && !m.wasSkipped()) {
                    counted[0]++; // a skipped one was counted when skipped
                }
                return expired;
            });
            metrics().messagesExpired.add(counted[0]);
            releaseQueueIfEmpty();
        }
        return queue == null && !keptAt(nowMs);
    }

    /** Drops every queued message (the session is being removed), giving their bytes back to the budget. */
    void dropQueue() {
        if (queue != null) {
            metrics().messagesDropped.add(queue.removeIf(m -> true));
            queue = null;
        }
    }

    /**
     * The session leaves this node while its stored messages stay kept by the cluster's store: frees its queue (and
     * the budget's bytes) without counting the messages dropped.
     */
    void handOverQueue() {
        if (queue != null) {
            queue.removeIf(m -> true);
            queue = null;
        }
    }

    /** Queues {@code m} if the shared budget has room for it (a queue made for it when there is none). */
    private boolean offer(Message m) {
        if (queue == null) {
            queue = new DeliveryQueue(ackedSeq, registry().queuedBytes());
        }
        return queue.offer(m);
    }

    private boolean queueFull(long bytes) {
        SessionRegistry.Limits limits = registry().limits();
        return queued() >= limits.maxQueuedMessages() || queuedBytes() + bytes > limits.maxQueuedBytes();
    }

    /**
     * Drops the expired messages not written to the current connection (behind a full window they would hold their
     * places in the queue and the budgets for as long as the client stays connected without acknowledging: new pushes
     * refused for messages nobody will get); when a push finds no room. Returns true (the caller tries again) when
     * any was dropped; the queue may be gone then.
     */
    private boolean dropExpiredUnsent(long nowMs) {
        if (queue == null) {
            return false;
        }
        if (nowMs < queue.nextExpiryScanMs) {
            return false; // looked a moment ago: a queue full of what does not expire is not scanned at every push
        }
        queue.nextExpiryScanMs = nowMs + 1000;
        long sentUpTo = queue.lastSentSeq;
        int[] counted = {0};
        int dropped = queue.removeIf(m -> {
            boolean drop = m.seq() > sentUpTo && m.expired(nowMs);
            if (drop && !m.wasSkipped()) {
                counted[0]++; // one skipped was counted expired when skipped
            }
            return drop;
        });
        metrics().messagesExpired.add(counted[0]);
        releaseQueueIfEmpty();
        return dropped > 0;
    }

    private void dropExpiredHead(long nowMs) {
        while (queue != null && queue.sentCount == 0 && !queue.isEmpty() && queue.first().expired(nowMs)) {
            if (!queue.removeFirst().wasSkipped()) {
                metrics().messagesExpired.increment();
            }
            releaseQueueIfEmpty();
        }
    }

    private void releaseQueueIfEmpty() {
        if (queue != null && queue.isEmpty()) {
            queue = null;
        }
    }

    /** For refusal accounting by callers. */
    static Refusal refusalOf(PushResult r) {
        if (r == PushResult.TOO_MANY_STORED) {
            return Refusal.OFFLINE_SESSIONS_LIMIT;
        }
        if (r == PushResult.STORE_FULL) {
            return Refusal.STORE_FULL;
        }
        if (r == PushResult.QUEUED_TOTAL_FULL) {
            return Refusal.QUEUED_TOTAL;
        }
        if (r == PushResult.CONNECTING) {
            return Refusal.CLUSTER_CLIENT_CONNECTING;
        }
        if (r.status() == PushResult.STORE_FAILED_STATUS && r != PushResult.DRAINING) {
            return Refusal.STORE_FAILED;
        }
        return switch (r.status()) {
            case 404 -> Refusal.CLIENT_OFFLINE;
            case 413 -> Refusal.PAYLOAD_TOO_LARGE;
            case 429 -> Refusal.QUEUE_FULL;
            default -> Refusal.DRAINING;
        };
    }
}
