package io.switchboard.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.swb.SwbFrames;
import java.util.concurrent.TimeUnit;

/**
 * One TCP connection of a {@link SwitchboardClient}: sends {@code HELLO}, answers {@code PING}, sends {@code PING}
 * after {@code hb} seconds without writing, batches cumulative {@code ACK}s (one per read batch once
 * {@code ackEveryMessages} are waiting, else {@code ackDelayMs} after the oldest unacknowledged message), and
 * closes when the handshake or the server goes silent. Session state (highest seq, topics, pending requests,
 * reconnecting) belongs to the client's {@link ClientSession}; this class reports to it.
 *
 * <p>Confined to the client's event loop. Timers are "wake up and check" tasks: at most one of each kind is
 * pending, and none is cancelled on the hot path.
 */
final class Connection extends ChannelInboundHandlerAdapter {
    /** The client closes a connection it has read nothing from for this many heartbeat intervals. */
    static final int SILENT_HEARTBEATS = 3;

    private final ClientSession client;
    /** The {@code resume=} this connection's HELLO carried, -1 for none. */
    final long resumeSeq;
    private final String helloLine;

    private Channel channel;
    private ChannelHandlerContext ctx;
    private boolean welcomed;
    private boolean closing;
    private boolean ended;
    private boolean needsFlush;
    private long heartbeatNs;
    private long lastWriteNs;
    private long lastReadNs;
    /** Closing by BYE ({@link #closeGracefully}): the server's answers to requests still count. */
    private boolean lingering;
    /** When this connection last sent a PING (0: never). */
    private long lastPingNs;
    private int unacked;
    private long oldestUnackedNs;
    private Scheduler.Cancellable handshakeTask;
    private Scheduler.Cancellable heartbeatTask;
    private Scheduler.Cancellable ackTask;
    private Scheduler.Cancellable lingerTask;
    private Frame.Bye bye;
    /** The token the server last accepted from it: its HELLO's (by WELCOME), or an AUTH's (by OK AUTH). Event loop. */
    String acceptedToken;
    /** Tokens sent with AUTH and not answered yet, oldest first (a few at most). Event loop. */
    private final java.util.ArrayDeque<String> authsAwaited = new java.util.ArrayDeque<>(2);
    /** The token of its last HELLO or AUTH. Event loop. */
    String sentToken;
    private Throwable cause;

    Connection(ClientSession client, long resumeSeq, String helloLine, String helloToken) {
        this.client = client;
        this.resumeSeq = resumeSeq;
        this.helloLine = helloLine;
        this.acceptedToken = helloToken;
        this.sentToken = helloToken;
    }

    /** Gives the server {@code token} with {@code AUTH} (after WELCOME). Event loop. */
    void authenticate(String token) {
        if (authsAwaited.size() == 8) {
            authsAwaited.poll(); // a server that answers none: keep the newest
        }
        authsAwaited.add(token);
        sentToken = token;
        writeAndFlush(SwbFrames.line(alloc(), "AUTH", token), null);
    }

    /** {@code OK AUTH}: the oldest AUTH awaited was accepted. Event loop. */
    void authAccepted() {
        String t = authsAwaited.poll();
        if (t != null) {
            acceptedToken = t;
        }
    }

    /** The server said {@code BYE}: this connection is ending. */
    boolean byeReceived() {
        return bye != null;
    }

    /** The connection is ending (a BYE came, or it is closing for a heartbeat timeout, a protocol error, close()). */
    boolean ending() {
        return closing || ended;
    }

    void attach(Channel channel) {
        this.channel = channel;
    }

    Channel channel() {
        return channel;
    }

    /** True while requests may be written: the handshake is done and no side has started closing. */
    boolean isOpen() {
        return welcomed && !closing && ctx != null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.pipeline().addBefore(ctx.name(), "swb-decoder", new FrameDecoder(client.maxPayloadBytes));
        // Every byte read is a sign of life, not only a whole frame: a large MSG on a slow link (4 MiB at 15 KB/s
        // takes minutes) is a server that talks, and the PONG to our PING waits behind it.
        ctx.pipeline().addBefore("swb-decoder", "swb-liveness", new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext c, Object msg) {
                lastReadNs = client.nanoTime();
                c.fireChannelRead(msg);
            }
        });
        io.netty.handler.ssl.SslHandler tls = client.tlsHandler(ctx.alloc());
        if (tls != null) {
            // First: the HELLO written at channelActive waits in it for the handshake; the connect timeout covers both.
            ctx.pipeline().addFirst("tls", tls);
        }
    }

    /** When the server was last heard from (any byte), on the client's clock. Event loop. */
    long lastReadNs() {
        return lastReadNs;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        long now = client.nanoTime();
        lastReadNs = now;
        write(SwbFrames.line(ctx.alloc(), helloLine));
        ctx.flush();
        handshakeTask = client.schedule(this::handshakeDeadline, client.connectTimeoutMs);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Frame frame)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        lastReadNs = client.nanoTime();
        if (closing) {
            if (lingering && welcomed && (frame instanceof Frame.Sent || frame instanceof Frame.Nack
                    || frame instanceof Frame.Ok || frame instanceof Frame.Err)) {
                // Closing by BYE: the server answered before it read it. Thrown away, a SEND it accepted failed as
                // unanswered (sent again by the application: a duplicate). Pushes are not taken any more.
                client.onReply(frame);
            }
            return;
        }
        switch (frame) {
            case Frame.Msg m -> onMsg(m.seq(), m.payload(), m.payload().length);
            case Frame.Skipped k -> onMsg(k.seq(), null, k.bytes());
            case Frame.Signal s -> {
                if (s == Frame.Signal.PING) {
                    write(SwbFrames.pong(ctx.alloc()));
                }
            }
            case Frame.WelcomeFrame w -> onWelcome(w.welcome());
            case Frame.Bye b -> onBye(b);
            case Frame.Malformed m -> {
                cause = new SwitchboardException(SwitchboardException.LOCAL, "malformed frame from server: " + m.reason());
                closing = true;
            }
            default -> {
                if (welcomed) {
                    client.onReply(frame);
                } else {
                    protocolError("reply before WELCOME: " + frame);
                }
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!closing && unacked > 0 && (unacked >= client.ackEveryMessages || client.ackDelayMs == 0)) {
            writeAck();
        }
        if (needsFlush) {
            flush();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
        if (cause == null && bye == null) {
            cause = t;
        }
        closing = true;
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        cancelTimers();
        end(cause);
    }

    /** Reports the end of this connection (or of its attempt) to the client exactly once. */
    void end(Throwable failure) {
        if (ended) {
            return;
        }
        ended = true;
        closing = true;
        cancelTimers();
        client.onConnectionEnded(this, cause != null ? cause : failure, bye);
    }

    private void onWelcome(Welcome welcome) {
        if (welcomed) {
            protocolError("second WELCOME");
            return;
        }
        if (!welcome.clientId().equals(client.clientId())) {
            protocolError("WELCOME for client id " + welcome.clientId() + ", expected " + client.clientId());
            return;
        }
        welcomed = true;
        cancel(handshakeTask);
        handshakeTask = null;
        heartbeatNs = TimeUnit.SECONDS.toNanos(welcome.heartbeatSeconds());
        if (heartbeatNs > 0) {
            heartbeatTask = client.schedule(this::heartbeatCheck, TimeUnit.NANOSECONDS.toMillis(heartbeatNs));
        }
        client.onWelcome(this, welcome);
    }

    /** A message, or ({@code payload} null) one too large that was skipped: acknowledged all the same. */
    private void onMsg(long seq, byte[] payload, long bytes) {
        if (!welcomed) {
            protocolError("MSG before WELCOME");
            return;
        }
        // Counted before the listener runs: a listener that closes the client from here acknowledges this message
        // too (closeGracefully acknowledges only when something is unacknowledged). With manual acknowledgement the
        // application counts them (acknowledged).
        if (!client.manualAck) {
            count(1);
        }
        if (payload != null) {
            client.onMessage(seq, payload);
        } else {
            client.onSkipped(seq, bytes);
        }
    }

    /** {@code n} more messages to acknowledge: the ACK goes at once past the policy's count, else after its delay. */
    private void count(int n) {
        if (unacked == 0) {
            oldestUnackedNs = client.nanoTime();
            if (ackTask == null && client.ackDelayMs > 0) {
                ackTask = client.schedule(this::ackCheck, client.ackDelayMs);
            }
        }
        unacked += n;
    }

    /** Manual acknowledgement: the application acknowledged {@code n} more messages. Event loop. */
    void acknowledged(int n) {
        if (closing || !welcomed) {
            return; // the next connection resumes from them
        }
        count(n);
        if (unacked >= client.ackEveryMessages || client.ackDelayMs == 0) {
            writeAck();
            flush();
        }
    }

    private void onBye(Frame.Bye b) {
        bye = b;
        closing = true;
        // Acknowledge what arrived so the server need not re-send it, then close our side too.
        if (unacked > 0 && welcomed) {
            writeAck();
        }
        client.onBye(b);
        if (needsFlush) {
            flush();
        }
        ctx.close();
    }

    private void protocolError(String what) {
        cause = new SwitchboardException(SwitchboardException.LOCAL, "protocol error: " + what);
        closing = true;
        ctx.close();
    }

    /** Writes and flushes a request from the client; false (and the buffer released) if the connection is not open. */
    boolean writeAndFlush(ByteBuf buf, ChannelFutureListener listener) {
        if (!isOpen()) {
            buf.release();
            return false;
        }
        lastWriteNs = client.nanoTime();
        needsFlush = false;
        if (listener == null) {
            ctx.writeAndFlush(buf, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(buf).addListener(listener);
        }
        return true;
    }

    /** Writes without flushing; the caller's read batch (or {@link #flush()}) flushes. */
    void write(ByteBuf buf) {
        lastWriteNs = client.nanoTime();
        needsFlush = true;
        ctx.write(buf, ctx.voidPromise());
    }

    void flush() {
        needsFlush = false;
        ctx.flush();
    }

    io.netty.buffer.ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    /**
     * Leaves: acknowledges what arrived, sends {@code BYE} and lets the server close first (so the TIME_WAIT
     * lands on its side), closing anyway after {@code lingerMs}.
     */
    void closeGracefully(long lingerMs) {
        if (isOpen() && channel.isActive()) {
            if (unacked > 0) {
                writeAck();
            }
            write(SwbFrames.line(ctx.alloc(), "BYE"));
            flush();
            closing = true;
            lingering = true;
            cancelTimers();
            lingerTask = client.schedule(() -> channel.close(), lingerMs);
        } else if (channel == null) {
            end(null); // closed while its host was being looked up: nothing was dialled
        } else {
            closing = true;
            channel.close();
        }
    }

    private void writeAck() {
        write(SwbFrames.ack(ctx.alloc(), client.ackSeq()));
        unacked = 0;
    }

    private void handshakeDeadline() {
        handshakeTask = null;
        if (!welcomed && !closing) {
            cause = new SwitchboardException(SwitchboardException.LOCAL,
                    "no WELCOME within " + client.connectTimeoutMs + " ms");
            closing = true;
            ctx.close();
        }
    }

    private void ackCheck() {
        ackTask = null;
        if (closing || unacked == 0) {
            return;
        }
        long waitedNs = client.nanoTime() - oldestUnackedNs;
        long delayNs = TimeUnit.MILLISECONDS.toNanos(client.ackDelayMs);
        if (waitedNs >= delayNs) {
            writeAck();
            flush();
        } else {
            ackTask = client.schedule(this::ackCheck, ceilMillis(delayNs - waitedNs));
        }
    }

    private void heartbeatCheck() {
        heartbeatTask = null;
        if (closing) {
            return;
        }
        long now = client.nanoTime();
        long silentNs = now - lastReadNs;
        long silentLimitNs = SILENT_HEARTBEATS * heartbeatNs;
        if (silentNs >= silentLimitNs) {
            cause = new SwitchboardException(SwitchboardException.LOCAL,
                    "server silent for " + TimeUnit.NANOSECONDS.toMillis(silentNs) + " ms");
            closing = true;
            ctx.close();
            return;
        }
        // A PING when nothing was written for a heartbeat (the server's idle timeout), and when nothing was read for
        // one (at most one a heartbeat): writes the server does not answer at once (ACKs, SENDs to a slow backend)
        // held it back, and with no PONG coming, a live connection was taken for silent after three heartbeats.
        long idleNs = now - lastWriteNs;
        long unansweredNs = now - Math.max(lastReadNs, lastPingNs);
        if (idleNs >= heartbeatNs || unansweredNs >= heartbeatNs) {
            write(SwbFrames.ping(ctx.alloc()));
            flush();
            lastPingNs = now;
            idleNs = 0;
            unansweredNs = 0;
        }
        long nextNs = Math.min(Math.min(heartbeatNs - idleNs, heartbeatNs - unansweredNs), silentLimitNs - silentNs);
        heartbeatTask = client.schedule(this::heartbeatCheck, ceilMillis(nextNs));
    }

    private void cancelTimers() {
        cancel(handshakeTask);
        cancel(heartbeatTask);
        cancel(ackTask);
        handshakeTask = null;
        heartbeatTask = null;
        ackTask = null;
        if (ended) {
            cancel(lingerTask);
            lingerTask = null;
        }
    }

    private static void cancel(Scheduler.Cancellable task) {
        if (task != null) {
            task.cancel();
        }
    }

    private static long ceilMillis(long nanos) {
        return Math.max(1, (nanos + 999_999) / 1_000_000);
    }
}
