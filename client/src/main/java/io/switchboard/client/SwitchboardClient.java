package io.switchboard.client;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.switchboard.swb.SwbFrames;
import java.net.InetAddress;
import java.util.Objects;
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
 *
 * <p>This class is the public face: it validates arguments and hands each call to the loop, where
 * {@link ClientSession} runs the connection and reconnect state machine. It stays a little over 400 lines
 * because the nested {@link Builder}, part of the published API, lives here.
 */
public final class SwitchboardClient implements AutoCloseable {
    /** After sending {@code BYE} the client waits this long for the server to close before closing itself. */
    public static final long CLOSE_LINGER_MS = 1_000;
    /** SWB/1's largest payload: the default limit on messages this client accepts. */
    public static final int MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

    private static final System.Logger LOG = System.getLogger(SwitchboardClient.class.getName());

    private final String clientId;
    private final int heartbeatSeconds;
    private final int maxSendBytes;
    private final EventLoopGroup ownedGroup;
    private final EventLoop loop;
    private final ClientSession session;

    private SwitchboardClient(Builder b) {
        clientId = b.clientId;
        heartbeatSeconds = b.heartbeatSeconds;
        maxSendBytes = b.maxSendBytes;
        ownedGroup = b.group == null ? Transport.newGroup(1, "switchboard-client") : null;
        loop = (b.group == null ? ownedGroup : b.group).next();
        session = new ClientSession(b, loop, ownedGroup);
    }

    /** Test hook: the channel of the current connection, or null. */
    io.netty.channel.Channel channel() throws Exception {
        return loop.submit(session::channel).get(5, java.util.concurrent.TimeUnit.SECONDS);
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
        onLoop(() -> session.connect(result), result);
        return result;
    }

    /**
     * Sends {@code payload} upstream with {@code SEND <id>}. The future completes when the server answers
     * {@code SENT <id>}, and fails with a {@link SwitchboardException} carrying the code of a {@code NACK}, or
     * {@link SwitchboardException#LOCAL} when the client is not connected or the connection ends first (the
     * outcome is then unknown; retry with the same id if the backend deduplicates). Only one send per id may be
     * pending. The array is read on the event loop: do not modify it until the future completes. A payload larger
     * than {@link Builder#maxSendBytes(int)} fails at once with code 413 and sends nothing (the server would end
     * the connection, and every other pending send with it).
     *
     * @throws IllegalArgumentException if {@code id} is not an SWB/1 identifier
     */
    public CompletableFuture<Void> send(String id, byte[] payload) {
        Ids.requireId(id, "send id");
        Objects.requireNonNull(payload, "payload");
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (payload.length > maxSendBytes) {
            SwitchboardException tooLarge = new SwitchboardException(413, "payload of " + payload.length
                    + " bytes exceeds maxSendBytes (" + maxSendBytes + ", the server's --max-payload)");
            onLoop(() -> result.completeExceptionally(tooLarge), result); // on the loop, as every returned future
            return result;
        }
        onLoop(() -> session.send(id, payload, result), result);
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
        onLoop(() -> session.subscribe(topic, result), result);
        return result;
    }

    /**
     * Unsubscribes from {@code topic} and stops re-subscribing it. The future completes on
     * {@code OK UNSUB <topic>}, at once when not connected, or when the connection ends first; then the
     * {@code UNSUB} is sent on the next connection, since the server may keep the session and its subscriptions.
     *
     * @throws IllegalArgumentException if {@code topic} is not an SWB/1 identifier
     */
    public CompletableFuture<Void> unsubscribe(String topic) {
        Ids.requireId(topic, "topic");
        CompletableFuture<Void> result = new CompletableFuture<>();
        onLoop(() -> session.unsubscribe(topic, result), result);
        return result;
    }

    /**
     * Replaces the token sent in the next {@code HELLO} (for example after {@code BYE 401 token expired}), and on a
     * connected client sends it now with {@code AUTH}, so that the session lives until the new token expires (give
     * it before the old one's {@code exp}). {@code null} removes it (nothing is sent).
     *
     * @throws IllegalArgumentException if the token is not one word of visible ASCII or makes HELLO too long
     */
    public void updateToken(String newToken) {
        checkHelloLength(clientId, Ids.requireToken(newToken), heartbeatSeconds);
        session.updateToken(newToken);
    }

    /**
     * Closes the client for good: acknowledges what arrived, sends {@code BYE}, lets the server close (at most
     * {@link #CLOSE_LINGER_MS}), fails pending requests, never reconnects, and shuts down its own event loop group
     * if it has one. The future completes when the connection is closed. Idempotent.
     */
    public CompletableFuture<Void> closeAsync() {
        CompletableFuture<Void> closeFuture = session.closeFuture();
        if (loop.inEventLoop()) {
            session.close();
            return closeFuture;
        }
        try {
            loop.execute(session::close);
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

    /**
     * The highest message sequence number received; {@code resume=} of the next reconnect (with
     * {@link Builder#manualAcknowledgement()}: {@link #acknowledgedSeq()} is). Any thread.
     */
    public long highestSeq() {
        return session.highestSeq();
    }

    /**
     * With {@link Builder#manualAcknowledgement()}: the application has handled every message up to and including
     * {@code seq} (its own work done: stored, forwarded), so the server may forget them. Cumulative, as SWB/1's
     * {@code ACK}: acknowledge in order. Sent at the {@link Builder#ackPolicy} pace. Messages not acknowledged are
     * sent again by the server to the next connection: after a reconnect this client does not deliver the copies of
     * messages it delivered already (they may still be in the application's hands), but a process that resumes from
     * {@link #acknowledgedSeq()} gets them all again: at least once across crashes. A message whose handling failed
     * is the application's to retry (it has the payload), or to give up by acknowledging past it. Seqs start again
     * after {@link SwitchboardListener#onSessionReset}:
     * acknowledge only seqs delivered after it. Any thread.
     *
     * @throws IllegalStateException without {@link Builder#manualAcknowledgement()}
     */
    public void acknowledge(long seq) {
        if (!session.manualAck) {
            throw new IllegalStateException("acknowledge needs Builder.manualAcknowledgement(): messages are "
                    + "acknowledged as their onMessage returns");
        }
        session.acknowledge(seq);
    }

    /**
     * With {@link Builder#manualAcknowledgement()}: the highest seq up to which every message was acknowledged
     * ({@link #acknowledge}); store it to give {@link Builder#resumeFrom} to the next process. Without: as
     * {@link #highestSeq()}. Any thread.
     */
    public long acknowledgedSeq() {
        return session.ackSeq();
    }

    /** True between a successful handshake and the end of that connection. Any thread. */
    public boolean isConnected() {
        return session.isConnected();
    }

    /** The {@link Welcome} of the current or most recent connection, or {@code null} before the first. Any thread. */
    public Welcome welcome() {
        return session.welcome();
    }

    public String clientId() {
        return clientId;
    }

    /** The event loop that owns this client and runs its callbacks. */
    /** When the connection last read a byte from the server, on the client's clock (-1: no connection). Tests. */
    long lastReadNanos() throws Exception {
        return loop.submit(session::lastReadNs).get(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    public EventLoop eventLoop() {
        return loop;
    }

    // --------------------------------------------------------------------------------------- plumbing

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
        // Package-private: ClientSession reads the settings once build() has validated them.
        String host = "127.0.0.1";
        int port = 7000;
        String clientId;
        String token;
        int heartbeatSeconds = -1;
        boolean reconnect = true;
        EventLoopGroup group;
        SwitchboardListener listener = new SwitchboardListener() { };
        long connectTimeoutMs = 10_000;
        long reconnectBaseMs = 1_000;
        long reconnectCapMs = 60_000;
        int ackEveryMessages = 32;
        long ackDelayMs = 1_000;
        int maxPayloadBytes = MAX_PAYLOAD_BYTES;
        int maxSendBytes = 64 * 1024;
        int maxPendingSends = 64;
        long resumeFrom = -1;
        boolean manualAck;
        InetAddress localAddress;
        RandomGenerator random;
        LongSupplier nanoClock = System::nanoTime;
        Scheduler scheduler = Scheduler.NETTY;
        /** TCP keepalive tuning; 0: the system's (Linux: idle 7,200 s, interval 75 s, 9 probes). */
        int keepaliveIdleSec;
        int keepaliveIntervalSec;
        int keepaliveCount;
        /** TLS: its context (set by build() for tls() and tlsTrusting()); null: plain TCP. */
        javax.net.ssl.SSLContext tlsContext;
        private boolean tlsDefault;
        private java.nio.file.Path tlsTrust;

        private Builder() {
        }

        /**
         * TLS to the server (SWB/1 behind a TLS-terminating proxy: {@code switchboard proxy --tls-cert}, HAProxy, a
         * load balancer), its certificate checked against the JVM's trusted CAs and its name against {@link #host}
         * (sent as SNI). A connection whose handshake fails ends with the reason ({@code onDisconnected}) and is tried
         * again as any other. Default: plain TCP.
         */
        public Builder tls() {
            tlsDefault = true;
            tlsTrust = null;
            tlsContext = null;
            return this;
        }

        /**
         * TLS, trusting the certificates of a PEM file (a private CA, or the server's own self-signed certificate)
         * instead of the JVM's CAs; the server's name is still checked against {@link #host}. Read by {@link #build}.
         */
        public Builder tlsTrusting(java.nio.file.Path pemCertificates) {
            tlsTrust = Objects.requireNonNull(pemCertificates, "pemCertificates");
            tlsDefault = false;
            tlsContext = null;
            return this;
        }

        /**
         * TLS with the application's own context (a client certificate, a trust manager of its own); the server's
         * name is still checked against {@link #host}.
         */
        public Builder tls(javax.net.ssl.SSLContext context) {
            tlsContext = Objects.requireNonNull(context, "context");
            tlsDefault = false;
            tlsTrust = null;
            return this;
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

        /**
         * TCP keepalive tuning for this client's connections (always on): the first probe after {@code idleSec}
         * without traffic, then every {@code intervalSec}, the connection ending after {@code count} unanswered.
         * With heartbeats ({@code hb > 0}) the client notices a dead server by itself; with {@code hb=0}
         * keepalive is all there is, and the system's defaults (Linux: 7,200 s, 75 s, 9) leave a silently
         * dropped path (a NAT that forgot the mapping, a pulled cable) undetected for over two hours. Default
         * {@code 0, 0, 0}: the system's.
         */
        public Builder tcpKeepalive(int idleSec, int intervalSec, int count) {
            this.keepaliveIdleSec = idleSec;
            this.keepaliveIntervalSec = intervalSec;
            this.keepaliveCount = count;
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

        /**
         * Largest payload {@link SwitchboardClient#send} sends; a larger one fails at once with 413. Set it to the
         * server's {@code --max-payload}: default 64 KiB, the server's default (the SWB/1 maximum is 16 MiB).
         */
        public Builder maxSendBytes(int maxSendBytes) {
            this.maxSendBytes = maxSendBytes;
            return this;
        }

        /**
         * Sends waiting for their answer at most; one more fails at once with 429 (and nothing is buffered for it).
         * Set it to the server's {@code --max-pending-sends}: default 64, the server's default.
         */
        public Builder maxPendingSends(int maxPendingSends) {
            this.maxPendingSends = maxPendingSends;
            return this;
        }

        /**
         * Largest message payload taken; a larger one is skipped unread, reported as
         * {@link SwitchboardListener#onError onError(413, ...)} and acknowledged (the server does not send it again).
         * Default 16 MiB, the SWB/1 maximum.
         */
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

        /**
         * The application acknowledges each message itself, with {@link SwitchboardClient#acknowledge}, once its
         * own work on it is done (for example on its executor, after a database write): a crash before that loses
         * nothing (the server sends it again to the process that resumes from {@link
         * SwitchboardClient#acknowledgedSeq()}; within one process a message is delivered once, see {@link
         * SwitchboardClient#acknowledge}). Default: a message is acknowledged once
         * {@link SwitchboardListener#onMessage} returned for it. The server sends at most its {@code --window} of
         * messages not acknowledged.
         */
        public Builder manualAcknowledgement() {
            this.manualAck = true;
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
            require(maxPendingSends >= 1, "maxPendingSends must be >= 1, got " + maxPendingSends);
            require(maxSendBytes >= 0 && maxSendBytes <= MAX_PAYLOAD_BYTES,
                    "maxSendBytes must be 0-" + MAX_PAYLOAD_BYTES + ", got " + maxSendBytes);
            boolean systemKeepalive = keepaliveIdleSec == 0 && keepaliveIntervalSec == 0 && keepaliveCount == 0;
            require(systemKeepalive || keepaliveIdleSec >= 1 && keepaliveIdleSec <= 32_767
                            && keepaliveIntervalSec >= 1 && keepaliveIntervalSec <= 32_767
                            && keepaliveCount >= 1 && keepaliveCount <= 127,
                    "tcpKeepalive needs idle and interval 1-32767 s and count 1-127 (or all 0 for the system's), got "
                            + keepaliveIdleSec + ", " + keepaliveIntervalSec + ", " + keepaliveCount);
            require(resumeFrom >= -1, "resumeFrom must be >= 0 (or -1 for none), got " + resumeFrom);
            checkHelloLength(clientId, token, heartbeatSeconds);
            if (tlsDefault || tlsTrust != null) {
                tlsContext = Tls.context(tlsTrust);
            }
            return new SwitchboardClient(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
