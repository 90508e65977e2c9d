package io.switchboard.connection;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.handler.ssl.SslHandler;
import io.switchboard.metrics.Refusal;
import io.switchboard.session.ClientLink;
import io.switchboard.session.Handshake;
import io.switchboard.session.Session;
import io.switchboard.session.SessionShard;
import io.switchboard.session.ShardMember;
import io.switchboard.transport.ProxyHeaderAddresses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle every client connection shares, whatever its protocol: the PROXY header (with {@code --accept-proxy}),
 * admission, the handshake and idle deadlines on its loop's wheel, the start of a session after a valid hello, the
 * handover of a session (takeover), backpressure, drain and the lingering close. A protocol adapter extends it with
 * its decoding ({@link #decode}), its frames ({@link #writeWelcome}, {@link #goodbye}, {@link ClientLink#writeMessage})
 * and the mapping of its frames onto the session core. One object per connection, the only handler that stays in
 * its pipeline, so an idle connection costs one small object and no buffer; that is also why it is one class of
 * some 500 lines rather than several collaborating objects, each of which would add a header and a reference to
 * every idle connection.
 *
 * <p>Owned by the channel's event loop: every method runs there.
 *
 * @param <A> the protocol adapter
 */
public abstract class ClientConnection<A extends ProtocolAdapter> extends ChannelInboundHandlerAdapter
        implements ShardMember, ClientLink, Handshake {
    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

    private static final byte NEW = 0;
    /** Hello accepted; waiting for the registry to hand over the session. Reads are paused. */
    private static final byte AWAITING_SESSION = 1;
    private static final byte OPEN = 2;
    /** Goodbye sent or closing: input is discarded until the channel closes. */
    private static final byte CLOSING = 3;
    /** With {@code --accept-proxy}: waiting for the PROXY header; not admitted yet. */
    private static final byte AWAITING_PROXY_HEADER = 4;

    /** Seconds a closing connection gets to flush its goodbye before it is closed regardless. */
    public static final int CLOSE_GRACE_SEC = 5;

    /** The gateway, this loop's shard and the adapter: one shared reference. */
    protected final ShardContext<A> at;
    protected ChannelHandlerContext ctx;
    private Session session;
    /** The bytes of an incomplete frame; null whenever no frame is incomplete. */
    private ByteBuf cumulation;
    /** During the handshake: the {@link Hello} being completed. */
    private Hello pending;
    private int hbSec;
    /** Before the handshake completes: its deadline; after: when the connection last read anything (loop seconds). */
    private int timeSec;
    /** The retry of a drain that waits for upstream answers ({@link #drain}); -1: none. */
    private int drainRetryMs = -1;
    /** Where the loop's wheel keeps this connection: slot in the high bits, index in the low 21; -1 when not. */
    private int wheelPos = -1;
    /** Place in the loop's member list: 0 or more exactly while admitted (counted by the guard), else -1. */
    private int memberIndex = -1;
    private byte phase = NEW;
    /** Over its frame budget ({@code --client-rate}): not read until the next second refills it. */
    private boolean throttled;
    /**
     * The protocol holds the client's input back until it can take more ({@link #holdInputBack}): an MQTT 3.1.1
     * client at its limit of PUBLISHes waiting for the upstream, which it cannot be told.
     */
    private boolean heldBack;
    /** Empty frames (WebSocket pings) read before the hello, up to {@link #MAX_EMPTY_FRAMES_BEFORE_HELLO} + 1. */
    private byte framesBeforeHello;
    static final int MAX_EMPTY_FRAMES_BEFORE_HELLO = 16;
    /** The client is leaving (its WebSocket close frame waits for the input before it): nothing more is pushed. */
    private boolean peerLeaving;
    /** Pushes were written and the flush waits for the end of the loop's current work (in alignment padding). */
    private boolean flushQueued;
    /** Whether {@link #decode} is running (a hello may complete inside it). */
    private boolean decoding;
    /**
     * With a token that expires: the loop second its validity ends (the session is closed then), else 0. With compact
     * object headers it takes bytes that were alignment padding, so clients without tokens pay nothing for it.
     */
    private int tokenUntilSec;
    /**
     * The client's address as its PROXY header announced it (with {@code --accept-proxy}); null when the TCP peer is
     * the client. With compact object headers it takes bytes that were alignment padding.
     */
    private InetSocketAddress announced;

    /** A hello waiting for its session. */
    private record Hello(String clientId, long resumeSeq) {
    }

    /** @param at the context of the event loop this connection's channel is registered on */
    protected ClientConnection(ShardContext<A> at) {
        this.at = at;
    }

    // ---- what a protocol adds

    /**
     * Decodes the frames readable in {@code in} (leaving an incomplete one unread) and acts on them; returns early
     * while {@link #inputPaused()}. Must not release {@code in}.
     */
    protected abstract void decode(ByteBuf in);

    /** Writes the protocol's answer to a hello that got its session ({@code seq} is where the session stands). */
    protected abstract void writeWelcome(Session s, int hbSec);

    /**
     * The protocol's last word before a close ({@code BYE} in SWB/1), or null to close without one; {@code retryMs}
     * {@code > 0} asks the client to come back after that long.
     */
    protected abstract Object goodbye(int code, String text, long retryMs);

    // ---- channel lifecycle

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        at.shared.metrics().connectionsAccepted.increment();
        if (at.shared.config().acceptProxy) {
            if (!trustedProxy(ctx.channel().remoteAddress())) {
                // Its header could announce any address and so escape the per-address limit: refuse it unheard,
                // without a goodbye, as for a bad header.
                phase = CLOSING;
                refused(Refusal.PROXY_UNTRUSTED);
                log.debug("closing connection {}: not in --accept-proxy-from", ctx.channel().remoteAddress());
                ctx.close();
                return;
            }
            // The limits count the address the header announces: admission waits for it (onProxyHeader).
            phase = AWAITING_PROXY_HEADER;
            timeSec = (int) at.shard.nowSec() + at.shared.config().acceptProxyTimeoutSec;
            at.shard.loop().schedule(this, timeSec);
            return;
        }
        admit();
    }

    /** Admission control for the client's address; the handshake timeout starts once admitted. */
    private void admit() {
        Framing framing = ctx.pipeline().get(Framing.class);
        boolean handedOver = framing != null && framing.handOverAdmission();
        Refusal refusal = admission(at.shared, handedOver ? null : remoteIp());
        if (refusal != null) {
            if (handedOver) {
                at.shared.guard().release(remoteIp());
            }
            refused(refusal);
            // Spread like a drain's: clients turned away together (a restart's reconnect storm) must not all come
            // back in the same second.
            closeWith(refusalStatus(refusal), refusalText(refusal), retrySpreadMs());
            return;
        }
        at.shared.metrics().connectionsOpen.incrementAndGet();
        timeSec = (int) at.shard.nowSec() + at.shared.config().handshakeTimeoutSec;
        at.shard.loop().addMember(this);
        at.shard.loop().schedule(this, timeSec);
    }

    /**
     * Whether a new connection from {@code ip} is refused, and why (null: admitted, and its place under the limits
     * taken): draining, or over a connection limit. {@code ip} null: its place was taken already, only draining
     * refuses.
     */
    public static Refusal admission(GatewayContext shared, InetAddress ip) {
        if (shared.registry().draining()) {
            return Refusal.DRAINING;
        }
        return ip == null ? null : Refusal.of(shared.guard().tryAcquire(ip));
    }

    /** The HTTP-like status a refusal of {@link #admission} is answered with. */
    public static int refusalStatus(Refusal refusal) {
        return refusal == Refusal.DRAINING ? 503 : 429;
    }

    /** Its one line for the client. */
    public static String refusalText(Refusal refusal) {
        return switch (refusal) {
            case DRAINING -> "draining";
            case ACCEPT_RATE -> "too fast";
            case PER_IP_LIMIT -> "too many connections from your address";
            default -> "too many connections";
        };
    }

    /**
     * The framing in front ends the connection: for an error of its own ({@code code}, HTTP-like: the protocol's
     * goodbye, then the framing's close, then a lingering close), or because the client closed it ({@code code}
     * 0: what is queued for it is flushed, then the framing's close). Either way the session is let go at once, so
     * nothing more is written to (and reported delivered on) a connection that is ending.
     */
    public final void framingEnded(int code, String text) {
        if (phase == CLOSING) {
            return;
        }
        if (code != 0) {
            closeWith(code, text, 0);
            return;
        }
        leave();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        phase = CLOSING;
        at.shard.loop().cancelDeadline(this);
        if (memberIndex >= 0) { // admitted
            at.shared.guard().release(remoteIp());
            at.shared.metrics().connectionsOpen.decrementAndGet();
            at.shard.loop().removeMember(this);
        }
        letGoOfSession();
        releaseCumulation();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage header) {
            onProxyHeader(header);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        try {
            if (phase == CLOSING) {
                return;
            }
            if (phase == OPEN) {
                timeSec = (int) at.shard.nowSec();
                if (!in.isReadable()) {
                    countFrame(); // a framing layer's control frame (a WebSocket ping), passed on empty
                }
            } else if (phase == NEW && !in.isReadable() && ++framesBeforeHello > MAX_EMPTY_FRAMES_BEFORE_HELLO) {
                // No session, so no frame budget yet: a client pinging before its hello got a pong for each, as
                // fast as it sent them, until the handshake timeout.
                refused(Refusal.THROTTLED_CLOSED);
                closeWith(429, "more than " + MAX_EMPTY_FRAMES_BEFORE_HELLO + " frames before the hello", 1000);
                return;
            }
            if (cumulation != null) {
                appendToCumulation(in);
                decodeOnce(cumulation);
                keepRemainder();
            } else {
                decodeOnce(in);
                if (in.isReadable() && phase != CLOSING) {
                    cumulation = ctx.alloc().buffer(Math.max(in.readableBytes(), 256));
                    cumulation.writeBytes(in);
                }
            }
        } finally {
            in.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        // A client that sends but does not read must not grow our outbound buffer without bound (every PING
        // queues a PONG): stop reading from it until it has read what it was sent.
        if (!ctx.channel().isWritable() && phase == OPEN) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && phase == OPEN && !throttled && !heldBack && drainRetryMs < 0) {
            ctx.channel().config().setAutoRead(true);
            if (session != null) {
                session.pump(true);
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof HAProxyProtocolException) {
            // The decoder closes the connection itself; count it once (a second bad line may follow in the buffer).
            if (phase == AWAITING_PROXY_HEADER) {
                phase = CLOSING;
                refused(Refusal.PROXY_HEADER);
            }
            log.debug("closing connection {}: bad PROXY header: {}", ctx.channel().remoteAddress(),
                    cause.getMessage());
        } else if (io.switchboard.transport.ServerTls.isTlsError(cause)) {
            // The peer's doing (a device retrying in plain text would otherwise write a warning a second).
            if (phase != CLOSING) {
                phase = CLOSING;
                refused(Refusal.TLS_FAILED);
            }
            log.debug("closing {} connection {}: TLS failed: {}", at.adapter.name(), remoteAddress(),
                    cause.toString());
        } else if (!(cause instanceof IOException)) {
            at.shared.metrics().loopErrors.increment();
            log.warn("closing {} connection {} ({}) after unexpected error: {}", at.adapter.name(), remoteAddress(),
                    clientIdForLog(), cause.toString());
        }
        ctx.close();
    }

    // ---- PROXY protocol header (--accept-proxy)

    private void onProxyHeader(HAProxyMessage header) {
        try {
            if (phase != AWAITING_PROXY_HEADER) {
                return; // timed out meanwhile
            }
            announced = announcedSource(header);
            phase = NEW;
            admit();
        } finally {
            header.release();
        }
    }

    /** A peer without an IP address (in-process, or a Unix socket) is on this host: trusted like loopback. */
    private boolean trustedProxy(SocketAddress peer) {
        return !(peer instanceof InetSocketAddress isa) || at.shared.config().trustedProxy(isa.getAddress());
    }

    /** The client address a PROXY header announces, or null when the TCP peer stands for itself. */
    public static InetSocketAddress announcedSource(HAProxyMessage m) {
        return ProxyHeaderAddresses.source(m);
    }

    // ---- the handshake

    /** Whether no hello was accepted yet (the protocol's first frame must be one). */
    protected final boolean beforeHello() {
        return phase == NEW;
    }

    /** Reading stops while a hello waits for its session (the rest stays buffered), and once closing. */
    protected final boolean inputPaused() {
        return phase == CLOSING || phase == AWAITING_SESSION || throttled || heldBack;
    }

    /**
     * Whether this connection holds input it has not read yet because it waits (for its session, or for its frame
     * budget to refill), and will read: a transport that finds the client's close after that input (a WebSocket
     * close frame) lets it be read first. On the loop.
     */
    public final boolean holdsInputToRead() {
        return (phase == AWAITING_SESSION || throttled || heldBack) && cumulation != null && cumulation.isReadable();
    }

    /**
     * Stops reading the client's input before its next frame, until {@link #releaseInput}: what it sends waits in
     * the socket and TCP pushes back (a client the protocol cannot refuse more of). Not closed as idle meanwhile.
     */
    protected final void holdInputBack() {
        heldBack = true;
        ctx.channel().config().setAutoRead(false);
    }

    /** Reads again what {@link #holdInputBack} held back, then the socket. On the loop. */
    protected final void releaseInput() {
        if (!heldBack) {
            return;
        }
        heldBack = false;
        if (phase != OPEN || drainRetryMs >= 0) {
            return; // closing, or a drain that takes nothing more
        }
        readWhatWaited();
    }

    /**
     * A pause ended (throttled, or held back): reads the input that waited (not inside decoding: an answer that came
     * at once, whose decoding goes on with the rest by itself), sends the deliveries a write buffer that drained
     * meanwhile left waiting (that pump was skipped), and reads the socket again unless another pause holds.
     */
    private void readWhatWaited() {
        if (cumulation != null && !decoding) {
            decodeOnce(cumulation);
            keepRemainder();
        }
        if (phase == OPEN && session != null) {
            session.pump(false);
        }
        ctx.flush();
        if (!throttled && !heldBack && phase == OPEN && ctx.channel().isWritable() && drainRetryMs < 0) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    // ---- fair share

    /**
     * Counts one frame the client sent against its budget ({@code --client-rate} frames a second, up to {@code
     * --client-burst} saved), as the frame is handled. When that was the last one, reading stops: the decoder sees
     * {@link #inputPaused()} before the next frame, the socket is not read and TCP pushes back, until the next loop
     * second refills the budget. A client that runs out {@code --client-rate-grace} seconds in a row is closed with
     * 429. Frames before the session (the hello) are not counted: a connection sends one.
     */
    protected final void countFrame() {
        int rate = at.shared.config().clientRate;
        Session s = session;
        if (rate == 0 || s == null || throttled) {
            return;
        }
        int nowSec = (int) at.shard.nowSec();
        int burst = at.shared.config().clientBurst;
        if (!s.spendFrame(nowSec, rate, burst) || !s.frameBudgetLeft(nowSec, rate, burst)) {
            throttle(s);
        }
    }

    /**
     * Counts {@code frames} frames' worth of work the client's last frame made the server do (a SUBSCRIBE that looks
     * through many retained topics) against its budget, as {@link #countFrame} does for one.
     */
    protected final void countFrames(int frames) {
        int rate = at.shared.config().clientRate;
        Session s = session;
        if (frames <= 0 || rate == 0 || s == null) {
            return;
        }
        // Charged also when the frame that asked for the work spent the last of the budget (throttled already).
        if (!s.spendFrames((int) at.shard.nowSec(), rate, at.shared.config().clientBurst, frames) && !throttled) {
            throttle(s);
        }
    }

    private void throttle(Session s) {
        int graceSec = at.shared.config().clientRateGraceSec;
        if (graceSec > 0 && s.overBudgetSeconds() >= graceSec) {
            refused(Refusal.THROTTLED_CLOSED);
            closeWith(429, "more than " + at.shared.config().clientRate + " frames a second for " + graceSec
                    + " s", 1000);
            return;
        }
        refused(Refusal.THROTTLED);
        throttled = true;
        ctx.channel().config().setAutoRead(false);
        at.shard.resumeNextTick(this::unthrottle);
    }

    /** The next second: the budget refills; read what waited, then the socket again. */
    private void unthrottle() {
        Session s = session;
        if (!throttled || phase != OPEN || s == null) {
            return;
        }
        if (!s.frameBudgetLeft((int) at.shard.nowSec(), at.shared.config().clientRate,
                at.shared.config().clientBurst)) {
            at.shard.resumeNextTick(this::unthrottle); // a tick within the same loop second
            return;
        }
        throttled = false;
        readWhatWaited();
    }


    /**
     * A valid hello arrived: refuses it while draining or when authentication fails, else asks the registry for the
     * client's session (taking it over from an older connection); {@link #complete} follows on this loop.
     *
     * @param resumeSeq the seq the client resumes from, or -1 for a fresh start (the session's subscriptions are
     *                  then dropped: a new process of the same client makes its own)
     * @param hb the heartbeat the client asked for in seconds, or -1 for the server's default
     */
    protected final void hello(String clientId, String token, long resumeSeq, int hb) {
        if (at.shared.registry().draining()) {
            refused(Refusal.DRAINING);
            closeWith(503, "draining", retrySpreadMs());
            return;
        }
        if (!authenticate(clientId, token)) {
            return;
        }
        hbSec = heartbeat(hb);
        pending = new Hello(clientId, resumeSeq);
        phase = AWAITING_SESSION;
        ctx.channel().config().setAutoRead(false);
        at.shared.registry().hello(clientId, this);
    }

    /**
     * A fresh token for the open session ({@code AUTH} in SWB/1), before the one it has expires: true when accepted
     * (the session now lives until the new token expires); else the connection is closing with 401.
     */
    protected final boolean renewToken(String token) {
        if (!authenticate(session.id(), token)) {
            return false;
        }
        scheduleDeadline();
        return true;
    }

    /**
     * Puts this connection on its loop's timing wheel at its deadline, or takes it off when it has none (hb=0 with a
     * token that does not expire: never closed as idle, and no wheel entry coming round every 1,023 s for ever).
     */
    private void scheduleDeadline() {
        if (deadlineSec() != Long.MAX_VALUE) {
            at.shard.loop().schedule(this, deadlineSec());
        } else {
            at.shard.loop().cancelDeadline(this);
        }
    }

    /** Verifies {@code token} for {@code clientId} and notes when it expires; closes with 401 when it is refused. */
    private boolean authenticate(String clientId, String token) {
        var authenticator = at.shared.services().authenticator();
        long nowMs = at.shard.nowMs();
        String authFailure = authenticator.verify(clientId, token, nowMs);
        if (authFailure != null) {
            refused(Refusal.AUTH_FAILED);
            closeWith(401, sanitize(authFailure), 0);
            return false;
        }
        long untilMs = authenticator.validUntilMs(token);
        if (untilMs == Long.MAX_VALUE) {
            tokenUntilSec = 0;
        } else {
            // Loop seconds, rounded up: the wheel's deadlines are whole loop seconds.
            long untilSec = at.shard.nowSec() + Math.max(1, Math.ceilDiv(untilMs - nowMs, 1000L));
            tokenUntilSec = (int) Math.min(untilSec, Integer.MAX_VALUE);
        }
        return true;
    }

    @Override
    public final SessionShard shard() {
        return at.shard;
    }

    @Override
    public final boolean open() {
        return phase == AWAITING_SESSION && ctx.channel().isActive();
    }

    @Override
    public final void complete(Session s) {
        long resumeSeq = pending.resumeSeq();
        session = s;
        pending = null;
        phase = OPEN;
        timeSec = (int) at.shard.nowSec();
        if (resumeSeq < 0) {
            s.clearSubscriptions();
        }
        s.attach(this, Math.max(0, resumeSeq), at.shard.nowMs());
        writeWelcome(s, hbSec);
        s.pump(false);
        scheduleDeadline();
        ctx.channel().config().setAutoRead(true);
        if (cumulation != null && !decoding) {
            // Else this completes inside the decoding of that very buffer (a hello completed at once), which goes
            // on with what follows the hello by itself: decoding it here too would release it under that parse.
            decodeOnce(cumulation);
            keepRemainder();
        }
        ctx.flush();
    }

    @Override
    public final void superseded() {
        if (phase == AWAITING_SESSION) {
            closeWith(409, "taken over", 0);
        }
    }

    @Override
    public final void unavailable(String reason) {
        if (phase == AWAITING_SESSION) {
            refused(Refusal.CLUSTER_UNAVAILABLE);
            closeWith(503, sanitize(reason), retrySpreadMs());
        }
    }

    /** The session once the handshake completed, else {@code null}. */
    @Override
    public final Session session() {
        return session;
    }

    /** Whether the handshake completed and the connection is not closing. */
    protected final boolean isOpen() {
        return phase == OPEN;
    }

    /**
     * The client leaves: the session lets go of this connection at once (offline from now: a push meanwhile is not
     * written to a socket that is closing and reported delivered), what was written to it is flushed, then closed
     * (no goodbye); a client that does not read that much is closed after a grace period.
     */
    protected final void leave() {
        phase = CLOSING;
        letGoOfSession();
        Object end = framingClose(0, "bye");
        ctx.writeAndFlush(end != null ? end : Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        closeAfterGrace();
    }

    // ---- ClientLink (the protocol writes messages)

    @Override
    public final void flush() {
        if (!flushQueued) {
            flushQueued = at.shard.flushSoon(this);
            if (!flushQueued) {
                ctx.flush();
            }
        }
    }

    @Override
    public final void flushNow() {
        flushQueued = false;
        ctx.flush();
    }

    @Override
    public final boolean isWritable() {
        return !peerLeaving && ctx.channel().isWritable();
    }

    /**
     * The client said it is leaving (a WebSocket close frame) while input before that still waits to be read: that
     * input is still handled (its PUBLISH, SEND, DISCONNECT), but no push is written to it any more (nor reported
     * delivered: a browser drops the messages that come once it closed). On the loop.
     */
    public final void peerLeaving() {
        peerLeaving = true;
    }

    /** The session let go of this connection (takeover or API disconnect): say why and close. */
    @Override
    public final void close(int code, String text, long retryMs) {
        Session s = session;
        session = null; // the registry let go of this connection already (a takeover, say)
        closeWith(code, text, retryMs);
        if (s != null) {
            sessionLetGo(s);
        }
    }

    @Override
    public final String protocol() {
        return at.adapter.name();
    }

    @Override
    public final String remoteAddress() {
        SocketAddress a = peer();
        if (a instanceof InetSocketAddress isa) {
            return isa.getAddress().getHostAddress() + ":" + isa.getPort();
        }
        return String.valueOf(a);
    }

    /**
     * Drain: ask the client to come back after {@code retryMs} and close. A connection waiting for the upstream's
     * answers to its messages (SENT/NACK, PUBACK) has them first, for at most {@link #DRAIN_UPSTREAM_WAIT_MS}: sent
     * away at once, the client would take them for unanswered and send them again (duplicates at the backend on
     * every deploy), while the backend went on to accept them.
     */
    @Override
    public final void drain(long retryMs) {
        if (phase == CLOSING || drainRetryMs >= 0) {
            return;
        }
        if (phase == OPEN && awaitsUpstream()) {
            drainRetryMs = (int) Math.min(Integer.MAX_VALUE, retryMs);
            // Nothing more is taken meanwhile (a PUBLISH or SEND read now would wait for its answer too, and one
            // still waiting at the bound would be cut off): what the client sends waits in the socket, and the
            // lingering close drops it; unanswered, the client sends it again after reconnecting.
            ctx.channel().config().setAutoRead(false);
            ctx.executor().schedule(this::drainNow, DRAIN_UPSTREAM_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
            return;
        }
        closeWith(503, "draining", retryMs);
    }

    /** How long a drain waits for the upstream's answers to a connection's messages (below the drain's own 5 s). */
    static final long DRAIN_UPSTREAM_WAIT_MS = 4_000;

    /** Whether a drain waits for this connection's upstream answers (nothing more is read from it meanwhile). */
    protected final boolean drainWaits() {
        return drainRetryMs >= 0;
    }

    /** Whether answers of the upstream to this connection's messages are still to come (a drain waits for them). */
    protected boolean awaitsUpstream() {
        return false;
    }

    /** An upstream answer was written: a drain that waited for the last one goes on. */
    protected final void upstreamAnswerWritten() {
        if (drainRetryMs >= 0 && !awaitsUpstream()) {
            drainNow();
        }
    }

    private void drainNow() {
        if (drainRetryMs >= 0 && phase != CLOSING) {
            int retryMs = drainRetryMs;
            drainRetryMs = -1;
            closeWith(503, "draining", retryMs);
        }
    }

    @Override
    public final void closeNow() {
        if (ctx != null) {
            ctx.channel().close();
        }
    }

    // ---- deadlines (ShardMember)

    @Override
    public final long deadlineSec() {
        if (phase != OPEN) {
            return timeSec;
        }
        long idleSec = hbSec == 0 ? Long.MAX_VALUE : timeSec + 2L * hbSec + at.shared.config().idleGraceSec;
        return tokenUntilSec == 0 ? idleSec : Math.min(idleSec, tokenUntilSec);
    }

    @Override
    public final void onDeadline(long nowSec) {
        try {
            deadlinePassed(nowSec);
        } catch (RuntimeException | Error e) {
            // Off the wheel already: left open, a connection closing without a deadline would stay for ever (reading
            // and dropping, its place held). Closed, and the loop's other deadlines go on.
            at.shared.metrics().loopErrors.increment();
            log.warn("closing connection {}: its deadline failed: {}", ctx.channel().remoteAddress(), e.toString());
            ctx.close();
        }
    }

    private void deadlinePassed(long nowSec) {
        if (phase == AWAITING_PROXY_HEADER) {
            // No protocol yet, and the peer is a proxy that failed to speak: close without a goodbye, as for a bad
            // header.
            phase = CLOSING;
            refused(Refusal.PROXY_HEADER);
            log.debug("closing connection {}: no PROXY header within {} s", ctx.channel().remoteAddress(),
                    at.shared.config().acceptProxyTimeoutSec);
            ctx.close();
        } else if (phase == NEW || phase == AWAITING_SESSION) {
            refused(Refusal.HANDSHAKE_TIMEOUT);
            closeWith(408, "handshake timeout", 0);
        } else if (phase == OPEN && tokenUntilSec != 0 && nowSec >= tokenUntilSec) {
            refused(Refusal.TOKEN_EXPIRED);
            closeWith(401, "token expired", 0);
        } else if (phase == OPEN && (heldBack || throttled)) {
            // Not idle: the server is the one not reading (its input waits for the upstream's answers, which come
            // or fail within the webhook's own bounds, or for its frame budget: a debt of work is paid back over
            // up to a minute, its PINGREQs unread meanwhile).
            timeSec = (int) nowSec;
            scheduleDeadline();
        } else if (phase == OPEN) {
            refused(Refusal.IDLE_TIMEOUT);
            closeWith(408, "idle", 0);
        } else if (phase == CLOSING) {
            ctx.close(); // the goodbye could not be flushed within the grace period
        }
    }

    @Override
    public final int wheelSlot() {
        return wheelPos < 0 ? -1 : wheelPos >>> 21;
    }

    @Override
    public final int wheelIndex() {
        return wheelPos < 0 ? -1 : wheelPos & ((1 << 21) - 1);
    }

    @Override
    public final void wheelPosition(int slot, int index) {
        if (index >= 1 << 21) {
            throw new IllegalStateException("more than 2M deadlines in one second on one loop");
        }
        this.wheelPos = slot < 0 ? -1 : (slot << 21) | index;
    }

    @Override
    public final int memberIndex() {
        return memberIndex;
    }

    @Override
    public final void memberIndex(int index) {
        this.memberIndex = index;
    }

    // ---- closing

    /** Counts a refusal of this connection, by reason and by its protocol. */
    protected final void refused(Refusal reason) {
        at.shared.metrics().refused(reason, at.adapter.name());
    }

    /**
     * The server closes this connection for {@code code} (as {@link #closeWith}), whether its socket is still open
     * or not: a protocol's last word on the session (an MQTT will at a takeover). Nothing by default.
     */
    protected void closing(int code) {
    }

    /** The heartbeat this connection gets for the {@code requested} one: clamped to --hb-min..--hb-max. */
    protected int heartbeat(int requested) {
        return at.shared.config().clampHeartbeat(requested);
    }

    /**
     * The session {@code s} let go of this connection, as it closes for any reason: it is kept offline, being taken
     * over by a newer connection, or ended ({@link Session#dead()}). Nothing by default.
     */
    protected void sessionLetGo(Session s) {
    }

    /** Counts {@code reason}, says why ({@code code text}) and closes: the answer to input that breaks the protocol. */
    protected final void protocolError(int code, String text, Refusal reason) {
        refused(reason);
        closeWith(code, text, 0);
    }

    /** Sends the protocol's goodbye, then closes once it is flushed; input is discarded from now on. */
    protected final void closeWith(int code, String text, long retryMs) {
        closing(code);
        phase = CLOSING;
        // The session is done with this connection now: it must not report it online or write to it meanwhile.
        letGoOfSession();
        boolean active = ctx.channel().isActive();
        Object last = active ? goodbye(code, text, retryMs) : null;
        Object end = active ? framingClose(code, text) : null;
        if (last != null && end != null) {
            ctx.write(last, ctx.voidPromise());
            last = end;
        } else if (last == null) {
            last = end;
        }
        if (last != null) {
            // Lingering close: goodbye, then FIN, and read (discarding) until the client closes. Closing at once
            // with unread input would make the kernel send RST, which can destroy the goodbye before it is read.
            writeThenShutdownOutput(ctx, last);
            ctx.channel().config().setAutoRead(true);
            // A client that neither reads its goodbye nor closes is closed after a grace period.
            closeAfterGrace();
        } else {
            ctx.close();
        }
    }

    /**
     * The first half of a lingering close: writes {@code last}, then ends the output (TLS close_notify first), so
     * that the peer reads it all before its unread input could make the kernel reset the connection; closes at once
     * when the write fails. Reading on until the peer closes (and a grace period) is the caller's.
     */
    public static void writeThenShutdownOutput(ChannelHandlerContext ctx, Object last) {
        ctx.writeAndFlush(last).addListener(f -> {
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            if (f.isSuccess() && tls != null) {
                tls.closeOutbound().addListener(c -> ((DuplexChannel) ctx.channel()).shutdownOutput());
            } else if (f.isSuccess() && ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
            } else {
                ctx.close();
            }
        });
    }

    /** The session is done with this connection: it no longer reports it online nor writes to it. */
    private void letGoOfSession() {
        Session s = session;
        session = null;
        if (s != null) {
            at.shared.registry().connectionClosed(s, this);
            sessionLetGo(s);
        }
    }

    /** A closing connection whose client neither takes its last bytes nor closes is closed after a grace period. */
    private void closeAfterGrace() {
        timeSec = (int) at.shard.nowSec() + CLOSE_GRACE_SEC;
        at.shard.loop().schedule(this, timeSec);
    }

    /** The close of a {@link Framing} in front of this connection (WebSocket), or null over plain TCP. */
    private Object framingClose(int code, String text) {
        Framing framing = ctx.pipeline().get(Framing.class);
        return framing == null ? null : framing.closeFrame(ctx.alloc(), code, sanitize(text));
    }

    private long retrySpreadMs() {
        int spread = at.shared.config().reconnectSpreadMs;
        return spread <= 0 ? 1000 : 1000 + ThreadLocalRandom.current().nextInt(spread);
    }

    // ---- the partial-frame buffer

    /** Decodes {@code buf}, noting that it is being decoded (see {@link #complete}). */
    private void decodeOnce(ByteBuf buf) {
        decoding = true;
        try {
            decode(buf);
        } finally {
            decoding = false;
        }
    }

    private void appendToCumulation(ByteBuf in) {
        int needed = in.readableBytes();
        if (cumulation.writableBytes() < needed) {
            cumulation.discardReadBytes();
            cumulation.ensureWritable(needed);
        }
        cumulation.writeBytes(in);
    }

    /** Frees the partial-frame buffer once it is consumed, so an idle connection holds no buffer. */
    private void keepRemainder() {
        if (cumulation != null && (!cumulation.isReadable() || phase == CLOSING)) {
            releaseCumulation();
        }
    }

    private void releaseCumulation() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    // ---- who the client is

    /** The client: the address its PROXY header announced (behind a proxy), else the TCP peer. */
    private SocketAddress peer() {
        return announced != null ? announced : ctx.channel().remoteAddress();
    }

    private InetAddress remoteIp() {
        return peer() instanceof InetSocketAddress isa ? isa.getAddress() : null;
    }

    private String clientIdForLog() {
        Session s = session;
        return s != null ? s.id() : pending != null ? pending.clientId() : "before hello";
    }

    /** Keeps text sent back to a client on one printable ASCII line. */
    public static String sanitize(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && sb.length() < 200; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }
}
