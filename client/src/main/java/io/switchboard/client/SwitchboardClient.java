package io.switchboard.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.switchboard.swb.SwbFrames;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * A Switchboard client speaking SWB/1 (see {@code docs/protocol.md}): one long-lived TCP connection on which the
 * server pushes messages. It performs the handshake, answers and sends heartbeats, acknowledges messages in
 * cumulative batches, drops re-sent duplicates, reconnects with exponential backoff and full jitter (honouring
 * the server's {@code retry}), resumes from the highest sequence number received, and re-subscribes its topics.
 *
 * <pre>{@code
 * SwitchboardClient client = SwitchboardClient.builder()
 *         .host("127.0.0.1").port(7000).clientId("alice")
 *         .listener(new SwitchboardListener() {
 *             public void onMessage(long seq, byte[] payload) { ... }
 *         })
 *         .build();
 * client.connect().get(10, TimeUnit.SECONDS);
 * }</pre>
 *
 * <p>Threading: all methods are thread-safe and never block, except {@link #close()}. Each client is bound to one
 * event loop, which owns all its state; calls from other threads are handed to that loop. Listener callbacks and
 * the completion of returned futures run on that loop, so do not block in them (use the {@code ...Async} stages of
 * {@link CompletableFuture} to move work elsewhere). Many clients may share one {@link EventLoopGroup} (see
 * {@link Builder#eventLoopGroup}); a client without one owns a one-thread group and shuts it down on close.
 */
public final class SwitchboardClient implements AutoCloseable {
    /** After sending {@code BYE} the client waits this long for the server to close before closing itself. */
    public static final long CLOSE_LINGER_MS = 1_000;
    /** SWB/1's largest payload: the default limit on messages this client accepts. */
    public static final int MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

    private static final System.Logger LOG = System.getLogger(SwitchboardClient.class.getName());

    private enum State { NEW, CONNECTING, CONNECTED, WAITING, STOPPED, CLOSED }

    private final String host;
    private final int port;
    private final String clientId;
    private final int heartbeatSeconds;
    private final boolean reconnect;
    final long connectTimeoutMs;
    final int ackEveryMessages;
    final long ackDelayMs;
    final int maxPayloadBytes;
    private final InetAddress localAddress;
    private final Backoff backoff;
    private final RandomGenerator random;
    private final LongSupplier nanoClock;
    private final Scheduler scheduler;
    private final SwitchboardListener listener;
    private final EventLoopGroup ownedGroup;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();

    // Owned by the event loop; the volatile ones are also read by other threads.
    private volatile String token;
    private volatile State state = State.NEW;
    private volatile long highestSeq;
    private volatile Welcome welcome;
    private boolean resuming;
    private int attempt;
    /** When the current connection was welcomed (nanoClock); {@link #NOT_WELCOMED} when it was not. */
    private long welcomedAtNs = NOT_WELCOMED;
    private static final long NOT_WELCOMED = Long.MIN_VALUE;
    /**
     * A connection must last this long before the backoff starts again from its base: a server that welcomes and
     * then drops the client at once (a takeover ping-pong between two instances of one id, a crash loop) gets ever
     * longer pauses instead of a reconnect every second.
     */
    static final long STABLE_CONNECTION_NS = 30_000_000_000L;
    private Connection connection;
    private CompletableFuture<Welcome> connectFuture;
    private Scheduler.Cancellable reconnectTask;
    private final Map<String, CompletableFuture<Void>> pendingSends = new HashMap<>();
    private final Set<String> topics = new LinkedHashSet<>();
    private final Map<String, CompletableFuture<Void>> pendingSubs = new HashMap<>();
    private final Map<String, CompletableFuture<Void>> pendingUnsubs = new HashMap<>();
    private long listenerFailures;

    private SwitchboardClient(Builder b) {
        host = b.host;
        port = b.port;
        clientId = b.clientId;
        token = b.token;
        heartbeatSeconds = b.heartbeatSeconds;
        reconnect = b.reconnect;
        connectTimeoutMs = b.connectTimeoutMs;
        ackEveryMessages = b.ackEveryMessages;
        ackDelayMs = b.ackDelayMs;
        maxPayloadBytes = b.maxPayloadBytes;
        localAddress = b.localAddress;
        backoff = new Backoff(b.reconnectBaseMs, b.reconnectCapMs);
        random = b.random;
        nanoClock = b.nanoClock;
        scheduler = b.scheduler;
        listener = b.listener;
        if (b.resumeFrom >= 0) {
            resuming = true;
            highestSeq = b.resumeFrom;
        }
        ownedGroup = b.group == null ? Transport.newGroup(1, "switchboard-client") : null;
        loop = (b.group == null ? ownedGroup : b.group).next();
        bootstrap = new Bootstrap()
                .group(loop)
                .channel(Transport.channelType(loop))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeoutMs));
    }

    /** A builder with the defaults listed on each of its methods. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A new event loop group on the best transport available (native epoll on Linux when its jar is present,
     * else NIO) with daemon threads, for sharing among many clients. The caller shuts it down after closing them.
     */
    public static EventLoopGroup newEventLoopGroup(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        return Transport.newGroup(threads, "switchboard-client");
    }

    /** True when clients use native epoll by default, false when they fall back to NIO. */
    public static boolean nativeTransport() {
        return Transport.epoll();
    }

    // ---------------------------------------------------------------------------------------------- public API

    /**
     * Starts connecting (if not already). The future completes with the server's {@link Welcome} once a handshake
     * succeeds. While reconnecting is enabled, failed attempts are retried and only reported to the listener; the
     * future fails only when the client gives up: {@code BYE 401}/{@code 403}, reconnecting disabled, or
     * {@link #close()}. After giving up, {@code connect()} may be called again.
     */
    public CompletableFuture<Welcome> connect() {
        CompletableFuture<Welcome> result = new CompletableFuture<>();
        onLoop(() -> {
            switch (state) {
                case CLOSED -> result.completeExceptionally(closed());
                case CONNECTED -> result.complete(welcome);
                case CONNECTING, WAITING -> {
                    if (connectFuture.isDone()) {
                        connectFuture = result; // reconnecting after an earlier success: wait for the next WELCOME
                    } else {
                        forward(connectFuture, result);
                    }
                }
                case NEW, STOPPED -> {
                    connectFuture = result;
                    attempt = 0;
                    startAttempt();
                }
            }
        }, result);
        return result;
    }

    /**
     * Sends {@code payload} upstream with {@code SEND <id>}. The future completes when the server answers
     * {@code SENT <id>}, and fails with a {@link SwitchboardException} carrying the code of a {@code NACK}, or
     * {@link SwitchboardException#LOCAL} when the client is not connected or the connection ends first (the
     * outcome is then unknown; retry with the same id if the backend deduplicates). Only one send per id may be
     * pending. The array is read on the event loop: do not modify it until the future completes.
     *
     * @throws IllegalArgumentException if {@code id} is not an SWB/1 identifier
     */
    public CompletableFuture<Void> send(String id, byte[] payload) {
        Ids.requireId(id, "send id");
        Objects.requireNonNull(payload, "payload");
        CompletableFuture<Void> result = new CompletableFuture<>();
        onLoop(() -> {
            Connection c = connection;
            if (state != State.CONNECTED || c == null || !c.isOpen()) {
                result.completeExceptionally(new SwitchboardException(SwitchboardException.LOCAL, "not connected"));
                return;
            }
            if (pendingSends.putIfAbsent(id, result) != null) {
                result.completeExceptionally(new IllegalStateException("a send with id " + id + " is already pending"));
                return;
            }
            c.writeAndFlush(SwbFrames.send(c.alloc(), id, payload), f -> {
                if (!f.isSuccess() && pendingSends.remove(id, result)) {
                    result.completeExceptionally(new SwitchboardException(SwitchboardException.LOCAL,
                            "send failed: " + f.cause(), f.cause()));
                }
            });
        }, result);
        return result;
    }

    /**
     * Subscribes to {@code topic}, now if connected and again after every reconnect. The future completes on
     * {@code OK SUB <topic>}; it fails with the code of {@code ERR <code> SUB <topic> ...} (the topic is then
     * dropped), or when the client gives up or closes first. Refusals of automatic re-subscriptions reach
     * {@link SwitchboardListener#onError}.
     *
     * @throws IllegalArgumentException if {@code topic} is not an SWB/1 identifier
     */
    public CompletableFuture<Void> subscribe(String topic) {
        Ids.requireId(topic, "topic");
        CompletableFuture<Void> result = new CompletableFuture<>();
        onLoop(() -> {
            if (state == State.CLOSED) {
                result.completeExceptionally(closed());
                return;
            }
            CompletableFuture<Void> pending = pendingSubs.get(topic);
            if (pending != null) {
                forward(pending, result);
                return;
            }
            topics.add(topic);
            pendingSubs.put(topic, result);
            Connection c = connection;
            if (state == State.CONNECTED && c != null) {
                c.writeAndFlush(SwbFrames.line(c.alloc(), "SUB", topic), null);
            }
        }, result);
        return result;
    }

    /**
     * Unsubscribes from {@code topic} and stops re-subscribing it. The future completes on
     * {@code OK UNSUB <topic>}, at once when not connected, or when the connection ends first (the server drops a
     * connection's subscriptions with it).
     *
     * @throws IllegalArgumentException if {@code topic} is not an SWB/1 identifier
     */
    public CompletableFuture<Void> unsubscribe(String topic) {
        Ids.requireId(topic, "topic");
        CompletableFuture<Void> result = new CompletableFuture<>();
        onLoop(() -> {
            topics.remove(topic);
            CompletableFuture<Void> sub = pendingSubs.remove(topic);
            if (sub != null) {
                sub.completeExceptionally(new SwitchboardException(SwitchboardException.LOCAL,
                        "unsubscribed from " + topic + " before the server confirmed the subscription"));
            }
            Connection c = connection;
            if (state != State.CONNECTED || c == null || !c.isOpen()) {
                result.complete(null);
                return;
            }
            CompletableFuture<Void> pending = pendingUnsubs.get(topic);
            if (pending != null) {
                forward(pending, result);
                return;
            }
            pendingUnsubs.put(topic, result);
            c.writeAndFlush(SwbFrames.line(c.alloc(), "UNSUB", topic), null);
        }, result);
        return result;
    }

    /**
     * Replaces the token sent in the next {@code HELLO} (for example after {@code BYE 401 token expired}); the
     * current connection is not affected. {@code null} removes it.
     *
     * @throws IllegalArgumentException if the token is not one word of visible ASCII or makes HELLO too long
     */
    public void updateToken(String newToken) {
        checkHelloLength(clientId, Ids.requireToken(newToken), heartbeatSeconds);
        token = newToken;
    }

    /**
     * Closes the client for good: acknowledges what arrived, sends {@code BYE}, lets the server close (at most
     * {@link #CLOSE_LINGER_MS}), fails pending requests, never reconnects, and shuts down its own event loop group
     * if it has one. The future completes when the connection is closed. Idempotent.
     */
    public CompletableFuture<Void> closeAsync() {
        if (loop.inEventLoop()) {
            closeOnLoop();
            return closeFuture;
        }
        try {
            loop.execute(this::closeOnLoop);
        } catch (RejectedExecutionException e) {
            // The loop is gone, and with it every channel it served: nothing is left open.
            closeFuture.complete(null);
        }
        return closeFuture;
    }

    /**
     * {@link #closeAsync()} and wait for it (bounded by {@link #CLOSE_LINGER_MS} plus a second), and for an owned
     * event loop group to terminate. Called on the event loop, it does not wait.
     */
    @Override
    public void close() {
        CompletableFuture<Void> f = closeAsync();
        if (loop.inEventLoop()) {
            return;
        }
        try {
            f.get(CLOSE_LINGER_MS + 1_000, TimeUnit.MILLISECONDS);
            if (ownedGroup != null) {
                ownedGroup.terminationFuture().await(2_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.DEBUG, "client {0}: close did not finish cleanly: {1}", clientId, e);
        }
    }

    /** The highest message sequence number received; {@code resume=} of the next reconnect. Any thread. */
    public long highestSeq() {
        return highestSeq;
    }

    /** True between a successful handshake and the end of that connection. Any thread. */
    public boolean isConnected() {
        return state == State.CONNECTED;
    }

    /** The {@link Welcome} of the current or most recent connection, or {@code null} before the first. Any thread. */
    public Welcome welcome() {
        return welcome;
    }

    public String clientId() {
        return clientId;
    }

    /** The event loop that owns this client and runs its callbacks. */
    public EventLoop eventLoop() {
        return loop;
    }

    // ------------------------------------------------------------------------------- event loop: session logic

    private void startAttempt() {
        state = State.CONNECTING;
        long resume = resuming ? highestSeq : -1;
        Connection c = new Connection(this, resume, SwbFrames.helloLine(clientId, token, resume, heartbeatSeconds));
        connection = c;
        Bootstrap b = bootstrap.clone().handler(c);
        ChannelFuture f = localAddress == null ? b.connect(host, port)
                : b.connect(new InetSocketAddress(host, port), new InetSocketAddress(localAddress, 0));
        c.attach(f.channel());
        f.addListener(done -> {
            if (!done.isSuccess()) {
                c.end(done.cause());
            }
        });
    }

    private void reconnectNow() {
        reconnectTask = null;
        if (state == State.WAITING) {
            startAttempt();
        }
    }

    void onWelcome(Connection c, Welcome w) {
        if (c != connection || state == State.CLOSED) {
            return;
        }
        state = State.CONNECTED;
        welcome = w;
        welcomedAtNs = nanoTime();
        resuming = true;
        boolean reset = c.resumeSeq >= 0 && w.seq() < c.resumeSeq;
        if (reset) {
            highestSeq = w.seq();
        }
        for (String topic : topics) {
            c.write(SwbFrames.line(c.alloc(), "SUB", topic));
        }
        if (connectFuture != null) {
            connectFuture.complete(w);
        }
        try {
            listener.onConnected(w);
        } catch (Throwable t) {
            listenerFailed("onConnected", t);
        }
        if (reset) {
            try {
                listener.onSessionReset(c.resumeSeq, w.seq());
            } catch (Throwable t) {
                listenerFailed("onSessionReset", t);
            }
        }
    }

    void onMessage(long seq, byte[] payload) {
        if (seq <= highestSeq || state == State.CLOSED) {
            return; // a copy re-sent after resume: acknowledged by the connection, not delivered twice
        }
        highestSeq = seq;
        try {
            listener.onMessage(seq, payload);
        } catch (Throwable t) {
            listenerFailed("onMessage", t);
        }
    }

    void onBye(Frame.Bye bye) {
        try {
            listener.onBye(bye.code(), bye.text());
        } catch (Throwable t) {
            listenerFailed("onBye", t);
        }
    }

    /** {@code SENT}, {@code NACK}, {@code OK} and {@code ERR}. */
    void onReply(Frame frame) {
        switch (frame) {
            case Frame.Sent s -> {
                CompletableFuture<Void> f = pendingSends.remove(s.id());
                if (f != null) {
                    f.complete(null);
                }
            }
            case Frame.Nack n -> {
                CompletableFuture<Void> f = pendingSends.remove(n.id());
                if (f != null) {
                    f.completeExceptionally(new SwitchboardException(n.code(), "NACK " + n.id() + " " + n.code() + " " + n.text()));
                }
            }
            case Frame.Ok ok -> {
                Map<String, CompletableFuture<Void>> pending =
                        "SUB".equals(ok.verb()) ? pendingSubs : "UNSUB".equals(ok.verb()) ? pendingUnsubs : null;
                CompletableFuture<Void> f = pending == null ? null : pending.remove(ok.subject());
                if (f != null) {
                    f.complete(null);
                }
            }
            case Frame.Err e -> onErr(e);
            default -> throw new IllegalArgumentException("not a reply: " + frame);
        }
    }

    private void onErr(Frame.Err e) {
        // ERR <code> <verb> <subject> <text...> names the refused command when it concerns one of ours.
        String[] words = e.text().split(" ", 3);
        if (words.length >= 2) {
            SwitchboardException failure = new SwitchboardException(e.code(), "ERR " + e.code() + " " + e.text());
            CompletableFuture<Void> f = switch (words[0]) {
                case "SUB" -> {
                    topics.remove(words[1]);
                    yield pendingSubs.remove(words[1]);
                }
                case "UNSUB" -> pendingUnsubs.remove(words[1]);
                case "SEND" -> pendingSends.remove(words[1]);
                default -> null;
            };
            if (f != null) {
                f.completeExceptionally(failure);
            }
        }
        try {
            listener.onError(e.code(), e.text());
        } catch (Throwable t) {
            listenerFailed("onError", t);
        }
    }

    void onConnectionEnded(Connection c, Throwable cause, Frame.Bye bye) {
        if (c != connection) {
            return;
        }
        connection = null;
        SwitchboardException lost = new SwitchboardException(SwitchboardException.LOCAL,
                "connection ended before the server answered", cause);
        failAll(pendingSends, lost);
        // The server forgets a connection's subscriptions with it: an unsubscribe is as good as done.
        pendingUnsubs.values().forEach(f -> f.complete(null));
        pendingUnsubs.clear();

        if (state == State.CLOSED) {
            notifyDisconnected(null, -1);
            closeFuture.complete(null);
            shutDownOwnedGroup();
            return;
        }
        Throwable reason = bye != null
                ? new SwitchboardException(bye.code(), "BYE " + bye.code() + (bye.text().isEmpty() ? "" : " " + bye.text()))
                : cause != null ? cause
                : new SwitchboardException(SwitchboardException.LOCAL, "connection closed by the server");
        boolean refused = bye != null && (bye.code() == 401 || bye.code() == 403);
        if (refused || !reconnect) {
            state = State.STOPPED;
            if (connectFuture != null) {
                connectFuture.completeExceptionally(reason);
            }
            failAll(pendingSubs, new SwitchboardException(SwitchboardException.LOCAL, "client stopped", reason));
            notifyDisconnected(reason, -1);
            return;
        }
        if (welcomedAtNs != NOT_WELCOMED && nanoTime() - welcomedAtNs >= STABLE_CONNECTION_NS) {
            attempt = 0;
        }
        welcomedAtNs = NOT_WELCOMED;
        long delayMs = bye != null && bye.retryMs() >= 0
                ? Backoff.retryDelayMs(bye.retryMs(), random())
                : backoff.delayMs(attempt, random());
        if (attempt < Integer.MAX_VALUE) {
            attempt++;
        }
        state = State.WAITING;
        reconnectTask = scheduler.schedule(loop, this::reconnectNow, delayMs);
        notifyDisconnected(reason, delayMs);
    }

    private void closeOnLoop() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (reconnectTask != null) {
            reconnectTask.cancel();
            reconnectTask = null;
        }
        SwitchboardException closed = closed();
        if (connectFuture != null) {
            connectFuture.completeExceptionally(closed);
        }
        failAll(pendingSubs, closed);
        Connection c = connection;
        if (c == null) {
            closeFuture.complete(null);
            shutDownOwnedGroup();
        } else {
            c.closeGracefully(CLOSE_LINGER_MS);
        }
    }

    private void notifyDisconnected(Throwable cause, long delayMs) {
        try {
            listener.onDisconnected(cause, delayMs);
        } catch (Throwable t) {
            listenerFailed("onDisconnected", t);
        }
    }

    private void shutDownOwnedGroup() {
        if (ownedGroup != null) {
            ownedGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private void listenerFailed(String callback, Throwable t) {
        // Logged once with its stack, then only counted at DEBUG: a failing listener must not flood the log.
        if (listenerFailures++ == 0) {
            LOG.log(System.Logger.Level.WARNING, "client " + clientId + ": listener " + callback
                    + " threw; the client ignores listener failures", t);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "client {0}: listener {1} threw ({2} failures): {3}",
                    clientId, callback, listenerFailures, t);
        }
    }

    // --------------------------------------------------------------------------------------- plumbing

    long nanoTime() {
        return nanoClock.getAsLong();
    }

    Scheduler.Cancellable schedule(Runnable task, long delayMs) {
        return scheduler.schedule(loop, task, delayMs);
    }

    private RandomGenerator random() {
        return random != null ? random : ThreadLocalRandom.current();
    }

    private SwitchboardException closed() {
        return new SwitchboardException(SwitchboardException.LOCAL, "client closed");
    }

    private void onLoop(Runnable task, CompletableFuture<?> failIfRejected) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            failIfRejected.completeExceptionally(
                    new SwitchboardException(SwitchboardException.LOCAL, "event loop is shut down", e));
        }
    }

    private static <T> void forward(CompletableFuture<T> from, CompletableFuture<T> to) {
        from.whenComplete((v, t) -> {
            if (t != null) {
                to.completeExceptionally(t);
            } else {
                to.complete(v);
            }
        });
    }

    private static void failAll(Map<String, CompletableFuture<Void>> pending, Throwable t) {
        if (pending.isEmpty()) {
            return;
        }
        // Copy first: a failed future's dependents may call back into this client.
        var futures = pending.values().toArray(new CompletableFuture<?>[0]);
        pending.clear();
        for (CompletableFuture<?> f : futures) {
            f.completeExceptionally(t);
        }
    }

    private static void checkHelloLength(String clientId, String token, int heartbeatSeconds) {
        int length = SwbFrames.helloLine(clientId, token, Long.MAX_VALUE, heartbeatSeconds).length() + 1;
        if (length > FrameDecoder.MAX_LINE_BYTES) {
            throw new IllegalArgumentException("HELLO would be " + length + " bytes, over the SWB/1 limit of "
                    + FrameDecoder.MAX_LINE_BYTES + " (token too long?)");
        }
    }

    /**
     * Configures a {@link SwitchboardClient}; every setting has a default except {@link #clientId}. Not
     * thread-safe; {@link #build()} validates and may be called more than once.
     */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 7000;
        private String clientId;
        private String token;
        private int heartbeatSeconds = -1;
        private boolean reconnect = true;
        private EventLoopGroup group;
        private SwitchboardListener listener = new SwitchboardListener() { };
        private long connectTimeoutMs = 10_000;
        private long reconnectBaseMs = 1_000;
        private long reconnectCapMs = 60_000;
        private int ackEveryMessages = 32;
        private long ackDelayMs = 1_000;
        private int maxPayloadBytes = MAX_PAYLOAD_BYTES;
        private long resumeFrom = -1;
        private InetAddress localAddress;
        private RandomGenerator random;
        private LongSupplier nanoClock = System::nanoTime;
        private Scheduler scheduler = Scheduler.NETTY;

        private Builder() {
        }

        /** Server host name or address; default {@code 127.0.0.1}. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** Server port; default {@code 7000}. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Required: this client's id, 1–128 characters of {@code [A-Za-z0-9._:@-]}. */
        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        /** Token sent in {@code HELLO} (a JWT when the server verifies tokens); default none. */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        /**
         * Heartbeat interval to ask for ({@code hb=}); the server's {@link Welcome#heartbeatSeconds()} is the one
         * used. Default {@code -1}: ask for nothing and take the server's default. {@code 0} asks for none.
         */
        public Builder heartbeatSeconds(int heartbeatSeconds) {
            this.heartbeatSeconds = heartbeatSeconds;
            return this;
        }

        /** Reconnect after a lost connection or failed attempt; default {@code true}. */
        public Builder reconnect(boolean reconnect) {
            this.reconnect = reconnect;
            return this;
        }

        /**
         * Event loop group to run on, shared by any number of clients (each takes {@code group.next()}); it must be
         * an epoll or NIO group, such as {@link SwitchboardClient#newEventLoopGroup}, and the caller shuts it down.
         * Default {@code null}: the client creates a one-thread group of its own.
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        /** Receives the client's events on its event loop; default: one that ignores them. */
        public Builder listener(SwitchboardListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Limit for the TCP connect, and again for the {@code WELCOME} after it; default 10,000 ms. */
        public Builder connectTimeoutMs(long connectTimeoutMs) {
            this.connectTimeoutMs = connectTimeoutMs;
            return this;
        }

        /** Backoff base and cap: attempt {@code n} waits {@code uniform(0, min(cap, base * 2^n))}; default 1 s, 60 s. */
        public Builder reconnectBackoffMs(long baseMs, long capMs) {
            this.reconnectBaseMs = baseMs;
            this.reconnectCapMs = capMs;
            return this;
        }

        /**
         * Acknowledge once this many messages are unacknowledged (checked once per read batch), or
         * {@code delayMs} after the oldest unacknowledged one; SWB/1 requires at most 32 and 1,000 ms, the
         * defaults. {@code delayMs = 0} acknowledges at the end of every read batch.
         */
        public Builder ackPolicy(int everyMessages, long delayMs) {
            this.ackEveryMessages = everyMessages;
            this.ackDelayMs = delayMs;
            return this;
        }

        /** Largest message payload accepted; a larger one closes the connection. Default 16 MiB, the SWB/1 maximum. */
        public Builder maxPayloadBytes(int maxPayloadBytes) {
            this.maxPayloadBytes = maxPayloadBytes;
            return this;
        }

        /**
         * Resume from this sequence number on the first connect too ({@code resume=}), for an application that
         * stores {@link SwitchboardClient#highestSeq()} across restarts. Default {@code -1}: the first {@code HELLO}
         * carries no {@code resume}; reconnects always resume from {@link SwitchboardClient#highestSeq()}.
         */
        public Builder resumeFrom(long seq) {
            this.resumeFrom = seq;
            return this;
        }

        /** Local address to connect from (spreads many clients over 127.0.0.0/8); default: the system's choice. */
        public Builder localAddress(InetAddress localAddress) {
            this.localAddress = localAddress;
            return this;
        }

        /**
         * Random source for reconnect jitter, used on the client's event loop (so it must be thread-safe if shared
         * by clients on different loops); default {@link ThreadLocalRandom}.
         */
        public Builder random(RandomGenerator random) {
            this.random = random;
            return this;
        }

        /** Test hook: monotonic clock in nanoseconds. */
        Builder nanoClock(LongSupplier nanoClock) {
            this.nanoClock = Objects.requireNonNull(nanoClock);
            return this;
        }

        /** Test hook: timer for heartbeats, ACK delays, handshake and reconnect. */
        Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler);
            return this;
        }

        /**
         * Validates the settings and creates the client (unconnected: call {@link SwitchboardClient#connect()}).
         *
         * @throws IllegalArgumentException naming the first invalid setting
         */
        public SwitchboardClient build() {
            Ids.requireId(clientId, "clientId");
            Ids.requireToken(token);
            require(port >= 1 && port <= 65_535, "port must be 1-65535, got " + port);
            require(heartbeatSeconds >= -1, "heartbeatSeconds must be >= 0 (or -1 for the server's default), got " + heartbeatSeconds);
            require(connectTimeoutMs >= 1, "connectTimeoutMs must be >= 1, got " + connectTimeoutMs);
            require(reconnectBaseMs >= 1 && reconnectCapMs >= reconnectBaseMs,
                    "reconnect backoff needs 1 <= base <= cap, got base=" + reconnectBaseMs + " cap=" + reconnectCapMs);
            require(ackEveryMessages >= 1 && ackEveryMessages <= 32, "ack every must be 1-32 messages, got " + ackEveryMessages);
            require(ackDelayMs >= 0 && ackDelayMs <= 1_000, "ack delay must be 0-1000 ms, got " + ackDelayMs);
            require(maxPayloadBytes >= 0 && maxPayloadBytes <= MAX_PAYLOAD_BYTES,
                    "maxPayloadBytes must be 0-" + MAX_PAYLOAD_BYTES + ", got " + maxPayloadBytes);
            require(resumeFrom >= -1, "resumeFrom must be >= 0 (or -1 for none), got " + resumeFrom);
            checkHelloLength(clientId, token, heartbeatSeconds);
            return new SwitchboardClient(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
