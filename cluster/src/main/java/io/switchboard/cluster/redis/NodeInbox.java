package io.switchboard.cluster.redis;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.switchboard.session.SessionRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's inbox, a Redis Stream the other nodes add to (pushes for clients held here, replies to the pushes this
 * node routed, takeover notices), read in order with blocking reads on a connection of its own; and the sending side:
 * requests to other nodes' inboxes, each answered or timed out. A stream, unlike pub/sub, keeps what arrives while
 * the reading connection reconnects. Trimmed to about {@link #MAX_ENTRIES} entries.
 *
 * <p>Thread-safe; entries are handled on the inbox connection's I/O thread (a gateway loop, see {@link GatewayLoops}):
 * a push for a client on that loop is delivered there at once, others are handed to their loops.
 */
final class NodeInbox {
    private static final Logger log = LoggerFactory.getLogger(NodeInbox.class);
    static final long BLOCK_MS = 1_000;
    private static final int READ_COUNT = 512;
    static final long MAX_ENTRIES = 100_000;
    /** Pushes routed to other nodes and not answered yet; one more is answered 503 at once. */
    static final int MAX_WAITING = 100_000;
    private static final byte[] FIELD = {'m'};

    private final RedisCluster cluster;
    private final StatefulRedisConnection<byte[], byte[]> reader;
    private final byte[] key;
    /** A routed push waiting for its reply until {@code deadlineNs}; {@code via} the link it went on, or null. */
    private record Waiting(Consumer<InboxMessage> done, long deadlineNs, NodeLinks.Link via) {
    }

    /** Where the answers to a request go: back through the inbox stream of node {@code to}, or on its link. */
    interface Answers {
        void send(String to, InboxMessage answer);
    }

    private final Map<Long, Waiting> waiting = new ConcurrentHashMap<>();
    /** Whether {@link #expireWaitingAndRearm} is scheduled. */
    private final AtomicBoolean expiryArmed = new AtomicBoolean();
    private static final long EXPIRY_CHECK_MS = 100;
    /**
     * Request ids, from a random start: a reply to an earlier process of this node (restarted at once, its requests
     * answered after the new one began reading) must not be taken for the answer to one of this process's requests.
     */
    private final AtomicLong ids = new AtomicLong(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 1);
    private volatile String lastId;
    private volatile boolean stopped;
    /** The stream is not read (nor trimmed) any more: another process holds the node ({@link #stopReading}). */
    private volatile boolean readingStopped;
    private volatile SessionRegistry registry;
    /** The direct links to other nodes, or null (none: every request goes through the streams). */
    private volatile NodeLinks links;
    /** Pushes other nodes routed here. */
    final LongAdder pushesIn = new LongAdder();
    /** Requests this node sent to other nodes' inboxes (a batch is one). */
    final LongAdder requestsOut = new LongAdder();
    private final AtomicLong badEntriesLogged = new AtomicLong();
    /** Inbox entries (and overdue answers) whose handling threw. */
    final LongAdder handlerFailures = new LongAdder();
    private final AtomicLong handlerFailuresLogged = new AtomicLong();

    NodeInbox(RedisCluster cluster, StatefulRedisConnection<byte[], byte[]> reader) {
        this.cluster = cluster;
        this.reader = reader;
        this.key = Keys.inbox(cluster.node);
        // Start after what is there: requests sent to an earlier process of this node were answered 503 long ago.
        List<StreamMessage<byte[], byte[]>> last = reader.sync().xrevrange(key, Range.create("-", "+"),
                Limit.from(1));
        this.lastId = last.isEmpty() ? "0-0" : last.get(0).getId();
    }

    /** Sends requests over {@code links} where a link is up. */
    void links(NodeLinks links) {
        this.links = links;
    }

    void start(SessionRegistry registry) {
        this.registry = registry;
        readNext();
    }

    /**
     * Has {@link #expireWaiting} run {@link #EXPIRY_CHECK_MS} from now unless it is already due. Armed only while
     * requests wait, so that an idle node's timer thread sleeps (a check every 100 ms was ten wake-ups a second in
     * each of a cluster's processes, at 55 processes a tenth of a core on this machine).
     */
    private void armExpiry() {
        if (!stopped && expiryArmed.compareAndSet(false, true)) {
            try {
                cluster.timer().schedule(this::expireWaitingAndRearm, EXPIRY_CHECK_MS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                expiryArmed.set(false); // the timer is shut down: stop() answers whatever still waits
            }
        }
    }

    private void expireWaitingAndRearm() {
        try {
            expireWaiting();
        } finally {
            // Cleared before looking: a request added meanwhile either sees it cleared and arms, or is seen here.
            expiryArmed.set(false);
            if (!waiting.isEmpty()) {
                armExpiry();
            }
        }
    }

    /**
     * Answers, as unanswered, the routed pushes whose reply is overdue. One answer that throws must not end the
     * checks: the waiting pushes would never be answered.
     */
    private void expireWaiting() {
        long now = System.nanoTime();
        for (var e : waiting.entrySet()) {
            if (now - e.getValue().deadlineNs() > 0 && waiting.remove(e.getKey(), e.getValue())) {
                try {
                    e.getValue().done().accept(null);
                } catch (RuntimeException failure) {
                    handlerFailed("answering an overdue request", failure);
                }
            }
        }
    }

    /** A handler threw: counted and logged (rate-limited); the inbox reads on. */
    private void handlerFailed(String what, RuntimeException e) {
        handlerFailures.increment();
        if (handlerFailuresLogged.getAndIncrement() % 1000 == 0) {
            log.warn("cluster: {} failed ({}); the inbox goes on (1 in 1000 logged)", what, e.toString(), e);
        }
    }

    private void readNext() {
        if (stopped || readingStopped) {
            return;
        }
        reader.async().xread(XReadArgs.Builder.block(BLOCK_MS).count(READ_COUNT), XReadArgs.StreamOffset.from(key,
                lastId)).whenComplete((streams, e) -> {
                    if (stopped || readingStopped) {
                        return;
                    }
                    if (e != null) {
                        cluster.redisFailed("reading the inbox", e);
                        cluster.timer().schedule(this::readNext, 500, TimeUnit.MILLISECONDS);
                        return;
                    }
                    if (streams != null) {
                        for (StreamMessage<byte[], byte[]> m : streams) {
                            lastId = m.getId();
                            try {
                                handle(m);
                            } catch (RuntimeException failure) {
                                // Thrown out of this callback, it would end the reading for good: the node would
                                // hold its lease and answer nothing routed to it.
                                handlerFailed("handling inbox entry " + m.getId(), failure);
                            }
                        }
                        if (!streams.isEmpty()) {
                            trimRead();
                        }
                    }
                    readNext();
                });
    }

    /**
     * Drops the entries read so far from the stream (approximately: whole stream nodes, cheap for Redis). Without
     * it the stream kept its last ~{@link #MAX_ENTRIES} requests with their payloads (up to a 64 MiB batch each)
     * after they were carried out, which with --cluster-link off, or links down, could take Redis to maxmemory.
     */
    private void trimRead() {
        cluster.redis().xtrim(key, io.lettuce.core.XTrimArgs.Builder.minId(lastId).approximateTrimming())
                .exceptionally(e -> {
                    cluster.redisFailed("trimming the inbox", e);
                    return null;
                });
    }

    private void handle(StreamMessage<byte[], byte[]> entry) {
        InboxMessage m;
        try {
            byte[] body = entry.getBody().values().stream().findFirst().orElse(new byte[0]);
            m = InboxMessage.decode(body);
        } catch (IOException | RuntimeException e) {
            if (badEntriesLogged.getAndIncrement() % 1000 == 0) {
                log.warn("cluster: skipped inbox entry {} that is not a message ({})", entry.getId(), e.toString());
            }
            return;
        }
        handle(m, this::send);
    }

    /**
     * Handles {@code m}, from this node's inbox stream or a link: a request is carried out and its answer sent to
     * {@code answers}, an answer completes the request it answers.
     */
    void handle(InboxMessage m, Answers answers) {
        switch (m) {
            case InboxMessage.Reply r -> answered(r.id(), r);
            case InboxMessage.BatchReply r -> answered(r.id(), r);
            case InboxMessage.PushBatch b -> {
                pushesIn.add(b.items().size());
                InboxMessage.Reply[] replies = new InboxMessage.Reply[b.items().size()];
                java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(
                        replies.length);
                // Each client's items together, in their order: one look for its session and one turn with it (a
                // client that connected again between two of them must not get the later one first).
                java.util.Map<String, List<Integer>> byClient = new java.util.LinkedHashMap<>();
                for (int i = 0; i < replies.length; i++) {
                    byClient.computeIfAbsent(b.items().get(i).clientId(), c -> new java.util.ArrayList<>(1)).add(i);
                }
                byClient.forEach((clientId, indexes) -> {
                    List<io.switchboard.service.PushRequest> items = new java.util.ArrayList<>(indexes.size());
                    for (int i : indexes) {
                        InboxMessage.Item item = b.items().get(i);
                        items.add(new io.switchboard.service.PushRequest(clientId, item.payload(), item.ttlSec()));
                    }
                    registry.pushes().pushAllIfHere(clientId, items, (r, k) -> {
                        replies[indexes.get(k)] = reply(b.id(), r);
                        if (left.decrementAndGet() == 0) {
                            answers.send(b.from(), new InboxMessage.BatchReply(b.id(), List.of(replies)));
                        }
                    });
                });
            }
            case InboxMessage.Push p -> {
                pushesIn.increment();
                registry.pushes().pushIfHere(p.clientId(), p.payload(), p.ttlSec(),
                        r -> answers.send(p.from(), reply(p.id(), r)));
            }
            case InboxMessage.FanOut f -> {
                var reached = f.topic() == null ? registry.pushes().broadcastHere(f.payload())
                        : registry.pushes().publishHere(f.topic(), f.payload(), f.properties());
                reached.whenComplete((n, e) -> answers.send(f.from(), new InboxMessage.Reply(f.id(),
                        e == null ? 200 : 500, e == null ? n : 0, false, e == null ? null : e.toString())));
            }
            case InboxMessage.Disconnect d -> registry.pushes().disconnectIfHere(d.clientId(), d.code(), d.reason())
                    .whenComplete((was, e) -> answers.send(d.from(), new InboxMessage.Reply(d.id(),
                            e == null ? 200 : 500, Boolean.TRUE.equals(was) ? 1 : 0, false, null)));
            case InboxMessage.TakenOver t -> registry.takenOver(t.clientId(), t.epoch());
            case InboxMessage.Retained r -> {
                if (registry.retained().retain(r.topic(), r.payload(), r.properties(), registry.nowMs())
                        == io.switchboard.session.RetainedMessages.Outcome.FULL) {
                    registry.metrics().refused(io.switchboard.metrics.Refusal.RETAINED_FULL);
                }
            }
        }
    }

    private void answered(long id, InboxMessage reply) {
        Waiting w = waiting.remove(id);
        if (w != null) {
            w.done().accept(reply);
        }
    }

    /** An answer that came on a link; anything else there is ignored. */
    void answered(InboxMessage m) {
        switch (m) {
            case InboxMessage.Reply r -> answered(r.id(), r);
            case InboxMessage.BatchReply r -> answered(r.id(), r);
            default -> {
            }
        }
    }

    /**
     * {@code link} broke: the requests sent on it are answered as unanswered now rather than at their deadline (the
     * peer may or may not have carried them out; the caller answers 503, as for a silent node).
     */
    void linkClosed(NodeLinks.Link link) {
        for (var e : waiting.entrySet()) {
            if (e.getValue().via() == link && waiting.remove(e.getKey(), e.getValue())) {
                try {
                    e.getValue().done().accept(null);
                } catch (RuntimeException failure) {
                    handlerFailed("answering a request on a broken link", failure);
                }
            }
        }
    }

    /** The reply to request {@code id} for a push's result here ({@code null}: the client is not here). */
    private static InboxMessage.Reply reply(long id, io.switchboard.service.PushResult r) {
        return r == null ? new InboxMessage.Reply(id, InboxMessage.Reply.NOT_HERE, 0, false, null)
                : new InboxMessage.Reply(id, r.status(), r.seq(), r.delivered(), r.error());
    }

    /** Adds {@code m} to {@code node}'s inbox; a failure is counted and logged once per outage. */
    void send(String node, InboxMessage m) {
        byte[] inbox = Keys.inbox(node);
        cluster.redis().xadd(inbox, XAddArgs.Builder.maxlen(MAX_ENTRIES).approximateTrimming(), FIELD,
                InboxMessage.encode(m)).whenComplete((id, e) -> {
                    if (e != null) {
                        cluster.redisFailed("sending to node " + node, e);
                    }
                });
        if (!cluster.aliveNodes().contains(node)) {
            // A node not seen alive may have been forgotten (its inbox deleted): this notice would make its inbox
            // again, and nothing would ever delete it. It expires unless the node comes back, which makes its
            // inbox lasting again at each lease refresh (RedisCluster#refreshAlive).
            cluster.redis().pexpire(inbox, 2 * RedisCluster.forgetAfterMs);
        }
    }

    /**
     * Routes a push to {@code node}, which holds the client; {@code done} gets its reply, or {@code null} when it
     * could not be sent or was not answered within twice the command timeout.
     */
    void request(String node, String clientId, byte[] payload, int ttlSec, Consumer<InboxMessage.Reply> done) {
        request(node, id -> new InboxMessage.Push(id, cluster.node, clientId, ttlSec, payload), done);
    }

    /**
     * Sends {@code node} the request {@code message} makes of a fresh id; {@code done} gets the reply, or
     * {@code null} when it could not be sent or was not answered within twice the command timeout.
     */
    void request(String node, java.util.function.LongFunction<InboxMessage> message,
                 Consumer<InboxMessage.Reply> done) {
        requestAny(node, message, m -> done.accept(m instanceof InboxMessage.Reply r ? r : null));
    }

    /** Sends {@code node} a batch of pushes; {@code done} gets its answers, or {@code null} as in {@link #request}. */
    void requestBatch(String node, java.util.List<InboxMessage.Item> items, Consumer<InboxMessage.BatchReply> done) {
        requestAny(node, id -> new InboxMessage.PushBatch(id, cluster.node, items),
                m -> done.accept(m instanceof InboxMessage.BatchReply r ? r : null));
    }

    private void requestAny(String node, java.util.function.LongFunction<InboxMessage> message,
                            Consumer<InboxMessage> done) {
        if (waiting.size() >= MAX_WAITING || stopped) {
            done.accept(null);
            return;
        }
        long id = ids.incrementAndGet();
        requestsOut.increment();
        byte[] bytes = InboxMessage.encode(message.apply(id));
        NodeLinks l = links;
        NodeLinks.Link link = l == null ? null : l.linkTo(node);
        if (link == null) {
            throughStream(node, id, bytes, done, null);
        } else {
            link.send(id, bytes, done); // on the link, or through the stream while it is not up (in order)
        }
    }

    private long deadlineNs() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2L * cluster.timeoutMs);
    }

    /**
     * Sends request {@code id} through {@code node}'s inbox stream; {@code countedOn}, when not null, is told when
     * it is answered (its link waits for the requests sent this way before it carries the next ones: order).
     */
    void throughStream(String node, long id, byte[] bytes, Consumer<InboxMessage> done, NodeLinks.Link countedOn) {
        Consumer<InboxMessage> answered = countedOn == null ? done : m -> {
            countedOn.streamAnswered();
            done.accept(m);
        };
        waiting.put(id, new Waiting(answered, deadlineNs(), null));
        armExpiry();
        cluster.redis().xadd(Keys.inbox(node), XAddArgs.Builder.maxlen(MAX_ENTRIES).approximateTrimming(), FIELD,
                bytes).whenComplete((entryId, e) -> {
                    if (e != null) {
                        cluster.redisFailed("routing a push to node " + node, e);
                        Waiting failed = waiting.remove(id);
                        if (failed != null) {
                            failed.done().accept(null);
                        }
                    }
                });
    }

    /**
     * Sends request {@code id} on {@code link}, whose answer comes back on it; false when the link broke before it
     * could be sent (nothing sent: the caller sends it another way). A link that does not keep up (its write buffer
     * full: the peer's loop stalled) gets no more: the request is answered as unanswered (503) at once.
     */
    boolean onLink(NodeLinks.Link link, long id, byte[] bytes, Consumer<InboxMessage> done) {
        io.netty.channel.Channel ch = link.channel;
        if (ch == null || !link.ready) {
            return false;
        }
        if (!ch.isWritable() || bytes.length > NodeLinks.MAX_FRAME) {
            done.accept(null);
            return true;
        }
        waiting.put(id, new Waiting(done, deadlineNs(), link));
        armExpiry();
        if (!link.ready) {
            // It broke meanwhile: unless its break answered this one already, it goes another way.
            return waiting.remove(id) == null;
        }
        // Through the link's loop's task queue even from that loop: a write made there at once would overtake the
        // writes other threads queued before it (an earlier request for the same client).
        try {
            ch.eventLoop().execute(() -> NodeLinks.writeFrame(ch, bytes));
        } catch (RejectedExecutionException stopping) {
            // The link's loop stopped (this node is closing): nothing was sent. Answered as unanswered once, here,
            // unless the link's close answered it already; not "another way", which would try the link again.
            Waiting w = waiting.remove(id);
            if (w != null) {
                w.done().accept(null);
            }
        }
        return true;
    }

    /** Stops reading; every routed push still waiting is answered as unanswered. */
    /**
     * Another process took this node: its stream is that process's now (read on here, requests were answered "not
     * here" for clients the new process holds, and entries trimmed unread). Requests this process sent wait on (their
     * answers may come over links) or time out.
     */
    void stopReading() {
        readingStopped = true;
    }

    void stop() {
        stopped = true;
        for (Long id : List.copyOf(waiting.keySet())) {
            Waiting w = waiting.remove(id);
            if (w != null) {
                w.done().accept(null);
            }
        }
    }

    @Override
    public String toString() {
        return new String(key, StandardCharsets.UTF_8);
    }
}
