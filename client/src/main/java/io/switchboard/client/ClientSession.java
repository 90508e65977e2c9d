package io.switchboard.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.switchboard.swb.SwbFrames;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * The state machine behind a {@link SwitchboardClient}: connect, welcome, lose the connection, wait out the
 * backoff, reconnect with {@code resume=}, give up or close; it drops re-sent duplicates and routes the server's
 * replies to {@link PendingSends} and {@link Subscriptions}. Each {@link Connection} reports here.
 *
 * <p>Confined to the client's event loop; the volatile fields are also read by other threads.
 */
final class ClientSession {
    private enum State { NEW, CONNECTING, CONNECTED, WAITING, STOPPED, CLOSED }

    /**
     * A connection must last this long before the backoff starts again from its base: a server that welcomes and
     * then drops the client at once (a takeover ping-pong between two instances of one id, a crash loop) gets ever
     * longer pauses instead of a reconnect every second.
     */
    static final long STABLE_CONNECTION_NS = 30_000_000_000L;
    private static final long NOT_WELCOMED = Long.MIN_VALUE;

    private final String host;
    /** TLS to the server, or null for plain TCP. */
    private final javax.net.ssl.SSLContext tls;
    private final int port;
    private final String clientId;
    private final int heartbeatSeconds;
    private final boolean reconnect;
    final long connectTimeoutMs;
    final int ackEveryMessages;
    final long ackDelayMs;
    final int maxPayloadBytes;
    /** The application acknowledges each message itself ({@link SwitchboardClient#acknowledge}). */
    final boolean manualAck;
    private final InetAddress localAddress;
    private final Backoff backoff;
    private final RandomGenerator random;
    private final LongSupplier nanoClock;
    private final Scheduler scheduler;
    private final GuardedListener listener;
    private final EventLoopGroup ownedGroup;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    private final PendingSends sends;
    private final Subscriptions subscriptions = new Subscriptions();

    private volatile String token;
    /** {@code connect()} was called while the connection was ending on a {@code BYE} (from {@code onBye}). */
    private boolean connectRequestedAfterBye;
    /** Stopped by a refusal (BYE 401/403): a connect() then waits out the backoff rather than dialling at once. */
    private boolean stoppedByRefusal;
    private volatile State state = State.NEW;
    private volatile long highestSeq;
    /** Manual acknowledgement: every message up to this one was handled by the application; resume= of a reconnect. */
    private volatile long acknowledgedSeq;
    /**
     * Manual acknowledgement: the seqs delivered (positive) or skipped as too large (negative) and not acknowledged
     * yet, in order; at most the server's window of them. Event loop.
     */
    private final java.util.ArrayDeque<Long> unacknowledged = new java.util.ArrayDeque<>();
    private volatile Welcome welcome;
    private boolean resuming;
    private int attempt;
    /** When the current connection was welcomed (nanoClock); {@link #NOT_WELCOMED} when it was not. */
    private long welcomedAtNs = NOT_WELCOMED;
    private Connection connection;
    private CompletableFuture<Welcome> connectFuture;
    private Scheduler.Cancellable reconnectTask;

    /** Takes the builder's validated settings; {@code ownedGroup} is shut down when the client ends, if not null. */
    ClientSession(SwitchboardClient.Builder b, EventLoop loop, EventLoopGroup ownedGroup) {
        host = b.host;
        tls = b.tlsContext;
        port = b.port;
        clientId = b.clientId;
        token = b.token;
        heartbeatSeconds = b.heartbeatSeconds;
        reconnect = b.reconnect;
        connectTimeoutMs = b.connectTimeoutMs;
        ackEveryMessages = b.ackEveryMessages;
        ackDelayMs = b.ackDelayMs;
        maxPayloadBytes = b.maxPayloadBytes;
        manualAck = b.manualAck;
        sends = new PendingSends(b.maxPendingSends);
        localAddress = b.localAddress;
        backoff = new Backoff(b.reconnectBaseMs, b.reconnectCapMs);
        random = b.random;
        nanoClock = b.nanoClock;
        scheduler = b.scheduler;
        listener = new GuardedListener(clientId, b.listener);
        if (b.resumeFrom >= 0) {
            resuming = true;
            highestSeq = b.resumeFrom;
            acknowledgedSeq = b.resumeFrom;
        }
        this.ownedGroup = ownedGroup;
        this.loop = loop;
        bootstrap = new Bootstrap()
                .group(loop)
                .channel(Transport.channelType(loop))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeoutMs));
        if (b.keepaliveIdleSec > 0) {
            Transport.keepalive(bootstrap, loop, b.keepaliveIdleSec, b.keepaliveIntervalSec, b.keepaliveCount);
        }
    }

    /** A TLS handler for a new connection, or null for plain TCP. */
    io.netty.handler.ssl.SslHandler tlsHandler(io.netty.buffer.ByteBufAllocator alloc) {
        return tls == null ? null : Tls.handler(tls, alloc, host, port);
    }

    /** The current connection's channel, or null (a test hook). Event loop. */
    io.netty.channel.Channel channel() {
        return connection == null ? null : connection.channel();
    }

    // ---------------------------------------------------------------------------------- any thread

    String clientId() {
        return clientId;
    }

    long highestSeq() {
        return highestSeq;
    }

    /** What the server is told was handled: the highest seq received, or with manual acknowledgement the acknowledged one. */
    long ackSeq() {
        return manualAck ? acknowledgedSeq : highestSeq;
    }

    /** Manual acknowledgement: the application handled every message up to {@code seq}. Any thread. */
    void acknowledge(long seq) {
        try {
            loop.execute(() -> acknowledgeHere(seq));
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // The client was closed: nothing to tell the server any more; the messages come again to a new client.
        }
    }

    private void acknowledgeHere(long seq) {
        int n = 0;
        long upTo = acknowledgedSeq;
        while (!unacknowledged.isEmpty() && Math.abs(unacknowledged.peek()) <= seq) {
            upTo = Math.abs(unacknowledged.poll());
            n++;
        }
        // Skipped messages next in line were never the application's to acknowledge.
        while (!unacknowledged.isEmpty() && unacknowledged.peek() < 0) {
            upTo = -unacknowledged.poll();
            n++;
        }
        if (upTo > acknowledgedSeq) {
            acknowledgedSeq = upTo;
            Connection c = connection;
            if (c != null && state == State.CONNECTED) {
                c.acknowledged(n);
            }
        }
    }

    boolean isConnected() {
        return state == State.CONNECTED;
    }

    Welcome welcome() {
        return welcome;
    }

    /**
     * The token of the next {@code HELLO}, and sent now with {@code AUTH} on a connection that is up, so that the
     * session outlives the old token's expiry; the caller has validated it.
     */
    void updateToken(String newToken) {
        token = newToken;
        if (newToken != null) {
            try {
                loop.execute(() -> {
                    Connection c = connection;
                    if (state == State.CONNECTED && c != null && !c.byeReceived() && newToken.equals(token)) {
                        c.authenticate(newToken);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // The client was closed (its own loop shut down): there is no connection to renew.
            }
        }
    }

    CompletableFuture<Void> closeFuture() {
        return closeFuture;
    }

    // ------------------------------------------------------------------ event loop: the client's requests

    void connect(CompletableFuture<Welcome> result) {
        switch (state) {
            case CLOSED -> result.completeExceptionally(closed());
            case CONNECTED -> {
                Connection c = connection;
                if (c != null && c.ending()) {
                    // Called from onBye (as its javadoc suggests after a new token), or while the connection closes
                    // for another reason: it is ending, so the result is the next WELCOME, or the refusal that stops
                    // the client. A second call waits for the same.
                    if (connectRequestedAfterBye) {
                        Futures.forward(connectFuture, result);
                    } else {
                        connectRequestedAfterBye = true;
                        connectFuture = result;
                    }
                } else {
                    result.complete(welcome);
                }
            }
            case CONNECTING, WAITING -> {
                Connection c = connection;
                if (state == State.CONNECTING && c != null && c.ending()) {
                    // A BYE before the WELCOME (a refused token; onBye may give a new one and call connect): the
                    // next attempt is asked for, also without reconnect().
                    connectRequestedAfterBye = true;
                }
                if (connectFuture.isDone()) {
                    connectFuture = result; // reconnecting after an earlier success: wait for the next WELCOME
                } else {
                    Futures.forward(connectFuture, result);
                }
            }
            case NEW, STOPPED -> {
                connectFuture = result;
                if (stoppedByRefusal) {
                    // A token source that keeps giving refused tokens (a wrong key, clock skew) must not have a
                    // fleet dial, refused, dial again at the round trip's pace: the attempts go on backing off.
                    stoppedByRefusal = false;
                    state = State.WAITING;
                    reconnectTask = scheduler.schedule(loop, this::reconnectNow, backoff.delayMs(attempt, -1,
                            random()));
                } else {
                    attempt = 0;
                    startAttempt();
                }
            }
        }
    }

    void send(String id, byte[] payload, CompletableFuture<Void> result) {
        Connection c = connection;
        if (state != State.CONNECTED || c == null || !c.isOpen()) {
            result.completeExceptionally(new SwitchboardException(SwitchboardException.LOCAL, "not connected"));
            return;
        }
        sends.send(c, id, payload, result);
    }

    void subscribe(String topic, CompletableFuture<Void> result) {
        if (state == State.CLOSED) {
            result.completeExceptionally(closed());
            return;
        }
        Connection c = connection;
        subscriptions.subscribe(topic, result, state == State.CONNECTED ? c : null);
    }

    void unsubscribe(String topic, CompletableFuture<Void> result) {
        Connection c = connection;
        boolean open = state == State.CONNECTED && c != null && c.isOpen();
        subscriptions.unsubscribe(topic, result, open ? c : null);
    }

    void close() {
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
        subscriptions.failPending(closed);
        Connection c = connection;
        if (c == null) {
            closeFuture.complete(null);
            shutDownOwnedGroup();
        } else {
            c.closeGracefully(SwitchboardClient.CLOSE_LINGER_MS);
        }
    }

    /** When the current connection last read a byte (the client's clock), or -1 without one. Event loop; tests. */
    long lastReadNs() {
        Connection c = connection;
        return c == null ? -1 : c.lastReadNs();
    }

    // ------------------------------------------------------------------ event loop: reports of a Connection

    void onWelcome(Connection c, Welcome w) {
        if (c != connection || state == State.CLOSED) {
            return;
        }
        state = State.CONNECTED;
        if (token != null && !token.equals(c.sentToken)) {
            c.authenticate(token); // given while the HELLO was on its way: the session must not end at the old one's exp
        }
        welcome = w;
        welcomedAtNs = nanoTime();
        resuming = true;
        // The server assigned every seq this client received: a last seq below the highest received means it lost
        // the session or its tail (with manual acknowledgement, resume= is the acknowledged seq, lower).
        long seen = highestSeq;
        boolean reset = c.resumeSeq >= 0 && w.seq() < seen;
        if (reset) {
            highestSeq = w.seq();
            if (manualAck) {
                // Numbering goes on after w.seq(): the messages above it are gone from the server, and the
                // application's acknowledgements of them would be taken for the new ones'.
                acknowledgedSeq = Math.min(acknowledgedSeq, w.seq());
                unacknowledged.removeIf(q -> Math.abs(q) > w.seq());
            }
        }
        if (manualAck && c.resumeSeq >= 0 && acknowledgedSeq > c.resumeSeq) {
            // Acknowledged by the application while this connection was being made: the server sends those messages
            // again (above resume=), which, dropped here as copies and never acknowledged, would fill its window.
            c.acknowledged(1);
        }
        subscriptions.resubscribe(c);
        if (connectFuture != null) {
            connectFuture.complete(w);
        }
        listener.onConnected(w);
        if (reset) {
            listener.onSessionReset(seen, w.seq());
        }
    }

    void onMessage(long seq, byte[] payload) {
        if (seq <= highestSeq || state == State.CLOSED) {
            return; // a copy re-sent after resume: acknowledged by the connection, not delivered twice
        }
        highestSeq = seq;
        if (manualAck) {
            unacknowledged.add(seq);
        }
        listener.onMessage(seq, payload);
    }

    /**
     * A message over {@link SwitchboardClient.Builder#maxPayloadBytes}: not delivered, reported as
     * {@code onError(413, ...)}, and acknowledged so that the server does not send it again.
     */
    void onSkipped(long seq, long bytes) {
        if (seq <= highestSeq || state == State.CLOSED) {
            return;
        }
        highestSeq = seq;
        if (manualAck) {
            unacknowledged.add(-seq);
            acknowledgeHere(acknowledgedSeq); // acknowledged at once when nothing before it waits
        }
        listener.onError(413, "MSG " + seq + " of " + bytes + " bytes is larger than maxPayloadBytes ("
                + maxPayloadBytes + "): skipped, not delivered");
    }

    void onBye(Frame.Bye bye) {
        listener.onBye(bye.code(), bye.text());
    }

    /** {@code SENT}, {@code NACK}, {@code OK} and {@code ERR}. */
    void onReply(Frame frame) {
        switch (frame) {
            case Frame.Sent s -> sends.onSent(s);
            case Frame.Nack n -> sends.onNack(n);
            case Frame.Ok ok when "AUTH".equals(ok.verb()) -> {
                Connection c = connection;
                if (c != null) {
                    c.authAccepted();
                }
            }
            case Frame.Ok ok -> subscriptions.onOk(ok);
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
                case "SUB" -> subscriptions.subRefused(words[1]);
                case "UNSUB" -> subscriptions.unsubRefused(words[1]);
                case "SEND" -> sends.refused(words[1]);
                default -> null;
            };
            if (f != null) {
                f.completeExceptionally(failure);
            }
        }
        listener.onError(e.code(), e.text());
    }

    void onConnectionEnded(Connection c, Throwable cause, Frame.Bye bye) {
        if (c != connection) {
            return;
        }
        connection = null;
        sends.failAll(new SwitchboardException(SwitchboardException.LOCAL,
                "connection ended before the server answered", cause));
        subscriptions.connectionEnded();

        if (state == State.CLOSED) {
            listener.onDisconnected(null, -1);
            closeFuture.complete(null);
            shutDownOwnedGroup();
            return;
        }
        Throwable reason = bye != null
                ? new SwitchboardException(bye.code(), "BYE " + bye.code() + (bye.text().isEmpty() ? "" : " " + bye.text()))
                : cause != null ? cause
                : new SwitchboardException(SwitchboardException.LOCAL, "connection closed by the server");
        // Refused: not again with the token that was refused (the one the server last accepted on this connection, by
        // WELCOME or OK AUTH: it expired); a token given since (updateToken) is tried.
        boolean refused = bye != null && (bye.code() == 401 || bye.code() == 403)
                && java.util.Objects.equals(token, c.acceptedToken);
        boolean connectRequested = connectRequestedAfterBye;
        connectRequestedAfterBye = false;
        if (welcomedAtNs != NOT_WELCOMED && nanoTime() - welcomedAtNs >= STABLE_CONNECTION_NS) {
            attempt = 0; // a connection that lasted starts the backoff over (a token that expired after a day, too)
        }
        if (refused || !reconnect && !connectRequested) {
            state = State.STOPPED;
            stoppedByRefusal = refused;
            welcomedAtNs = NOT_WELCOMED;
            if (refused && attempt < Integer.MAX_VALUE) {
                attempt++;
            }
            if (connectFuture != null) {
                connectFuture.completeExceptionally(reason);
            }
            subscriptions.failPending(new SwitchboardException(SwitchboardException.LOCAL, "client stopped", reason));
            listener.onDisconnected(reason, -1);
            return;
        }
        welcomedAtNs = NOT_WELCOMED;
        long delayMs = backoff.delayMs(attempt, bye != null ? bye.retryMs() : -1, random());
        if (attempt < Integer.MAX_VALUE) {
            attempt++;
        }
        state = State.WAITING;
        reconnectTask = scheduler.schedule(loop, this::reconnectNow, delayMs);
        listener.onDisconnected(reason, delayMs);
    }

    // ---------------------------------------------------------------------------------------- plumbing

    /** Looks a host name up (blocking); tests replace it. */
    interface HostResolver {
        InetAddress resolve(String host) throws java.net.UnknownHostException;
    }

    static volatile HostResolver hostResolver = InetAddress::getByName;

    /**
     * Where host names are looked up: off the event loops, whose clients would all stop (no PING, no ACK, no
     * callback) while one lookup waits for a slow or absent DNS server, just when reconnects come together.
     */
    private static final java.util.concurrent.ThreadPoolExecutor LOOKUPS = new java.util.concurrent.ThreadPoolExecutor(
            4, 4, 30, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(),
            r -> {
                Thread t = new Thread(r, "switchboard-client-dns");
                t.setDaemon(true);
                return t;
            });

    static {
        LOOKUPS.allowCoreThreadTimeOut(true); // up to 4 lookups at once (one hung DNS server holds one), none idle
    }

    private void startAttempt() {
        state = State.CONNECTING;
        long resume = resuming ? ackSeq() : -1;
        String helloToken = token;
        Connection c = new Connection(this, resume, SwbFrames.helloLine(clientId, helloToken, resume,
                heartbeatSeconds), helloToken);
        connection = c;
        if (io.netty.util.NetUtil.isValidIpV4Address(host) || io.netty.util.NetUtil.isValidIpV6Address(host)) {
            dial(c, new InetSocketAddress(host, port)); // a literal: nothing to look up
            return;
        }
        CompletableFuture<InetAddress> lookup = new CompletableFuture<>();
        LOOKUPS.execute(() -> {
            if (lookup.isDone()) {
                return; // timed out while queued: the attempt is over
            }
            try {
                lookup.complete(hostResolver.resolve(host));
            } catch (java.net.UnknownHostException | RuntimeException e) {
                lookup.completeExceptionally(e);
            }
        });
        lookup.orTimeout(connectTimeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS).whenCompleteAsync((a, e) -> {
            if (connection != c || state != State.CONNECTING) {
                return; // closed meanwhile
            }
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e;
                c.end(cause instanceof java.util.concurrent.TimeoutException
                        ? new java.net.UnknownHostException(host + ": no answer from DNS within " + connectTimeoutMs
                                + " ms") : cause);
                return;
            }
            dial(c, new InetSocketAddress(a, port));
        }, loop);
    }

    private void dial(Connection c, InetSocketAddress to) {
        Bootstrap b = bootstrap.clone().handler(c);
        ChannelFuture f = localAddress == null ? b.connect(to) : b.connect(to, new InetSocketAddress(localAddress, 0));
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

    long nanoTime() {
        return nanoClock.getAsLong();
    }

    Scheduler.Cancellable schedule(Runnable task, long delayMs) {
        return scheduler.schedule(loop, task, delayMs);
    }

    private void shutDownOwnedGroup() {
        if (ownedGroup != null) {
            ownedGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private RandomGenerator random() {
        return random != null ? random : ThreadLocalRandom.current();
    }

    static SwitchboardException closed() {
        return new SwitchboardException(SwitchboardException.LOCAL, "client closed");
    }
}
