package io.switchboard.protocol.swb;

import io.switchboard.swb.SwbClientFrameParser;
import io.switchboard.swb.SwbFrames;
import io.switchboard.swb.SwbVerb;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.switchboard.session.ShardMember;
import io.switchboard.session.SessionShard;
import io.switchboard.metrics.Refusal;
import io.switchboard.session.ClientLink;
import io.switchboard.session.Handshake;
import io.switchboard.session.Message;
import io.switchboard.session.Session;
import io.switchboard.upstream.UpstreamSink;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SWB/1 connection: the only handler in its channel's pipeline. It decodes frames with the shared SWB/1 parser
 * (keeping a buffer only while a frame is incomplete), drives the handshake, and is the {@link ClientLink} through
 * which its {@link Session} writes messages. Deadlines live on the loop's coarse wheel, not in a per-channel timer.
 *
 * <p>With {@code --accept-proxy}, Netty's {@code HAProxyMessageDecoder} sits in front of it until the PROXY header
 * is decoded (it then removes itself and passes on any bytes that came with the header): admission waits for the
 * header, and the address it announces stands for the client everywhere (limits, API, logs).
 *
 * <p>Owned by the channel's event loop: every method runs there.
 */
public final class SwbConnection extends ChannelInboundHandlerAdapter
        implements ShardMember, ClientLink, Handshake, SwbClientFrameParser.Handler {
    private static final Logger log = LoggerFactory.getLogger(SwbConnection.class);

    private static final byte NEW = 0;
    /** HELLO accepted; waiting for the registry to hand over the session. Reads are paused. */
    private static final byte AWAITING_SESSION = 1;
    private static final byte OPEN = 2;
    /** BYE sent or closing: input is discarded until the channel closes. */
    private static final byte CLOSING = 3;
    /** With {@code --accept-proxy}: waiting for the PROXY header; not admitted yet. */
    private static final byte AWAITING_PROXY_HEADER = 4;

    /** Seconds a closing connection gets to flush its BYE before it is closed regardless. */
    static final int CLOSE_GRACE_SEC = 5;

    private final SwbLoop at;
    private ChannelHandlerContext ctx;
    private Session session;
    private ByteBuf cumulation;
    /** During the handshake: the {@link Hello} being completed. */
    private Object pending;
    private int hbSec;
    /** Before the handshake completes: its deadline; after: when the connection last read anything (loop seconds). */
    private int timeSec;
    /** Where the loop's wheel keeps this connection: slot in the high bits, index in the low 21; -1 when not. */
    private int wheelPos = -1;
    /** Place in the loop's member list: 0 or more exactly while admitted (counted by the guard), else -1. */
    private int memberIndex = -1;
    private short pendingSends;
    private byte phase = NEW;
    /**
     * The client's address as its PROXY header announced it (with {@code --accept-proxy}); null when the TCP peer is
     * the client. With compact object headers it takes bytes that were alignment padding: the object is 56 B with
     * them, 64 B without (JOL).
     */
    private InetSocketAddress announced;

    /** A HELLO waiting for its session. */
    private record Hello(String clientId, long resumeSeq) {
    }

    /** @param at the context and loop state of the event loop this connection's channel is registered on */
    SwbConnection(SwbLoop at) {
        this.at = at;
    }

    /** A connection for a channel being initialised (so already registered with its event loop). */
    public static SwbConnection forChannel(SwbContext shared, io.netty.channel.Channel ch) {
        return new SwbConnection(shared.loopOf(ch.eventLoop()));
    }

    // ---- channel lifecycle

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        at.shared.metrics().connectionsAccepted.increment();
        if (at.shared.config().acceptProxy) {
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
        Refusal refusal = at.shared.registry().draining() ? Refusal.DRAINING
                : Refusal.of(at.shared.guard().tryAcquire(remoteIp()));
        if (refusal != null) {
            at.shared.metrics().refused(refusal);
            int code = refusal == Refusal.DRAINING ? 503 : 429;
            String text = switch (refusal) {
                case DRAINING -> "draining";
                case ACCEPT_RATE -> "too fast";
                case PER_IP_LIMIT -> "too many connections from your address";
                default -> "too many connections";
            };
            closeWith(code, text, refusal == Refusal.DRAINING ? retrySpreadMs() : 1000);
            return;
        }
        at.shared.metrics().connectionsOpen.incrementAndGet();
        timeSec = (int) at.shard.nowSec() + at.shared.config().handshakeTimeoutSec;
        at.shard.loop().addMember(this);
        at.shard.loop().schedule(this, timeSec);
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
        Session s = session;
        session = null;
        if (s != null) {
            at.shared.registry().connectionClosed(s, this);
        }
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
            }
            if (cumulation != null) {
                appendToCumulation(in);
                decode(cumulation);
                keepRemainder();
            } else {
                decode(in);
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
        if (ctx.channel().isWritable() && phase == OPEN) {
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
                at.shared.metrics().refused(Refusal.PROXY_HEADER);
            }
            log.debug("closing connection {}: bad PROXY header: {}", ctx.channel().remoteAddress(),
                    cause.getMessage());
        } else if (!(cause instanceof IOException)) {
            at.shared.metrics().loopErrors.increment();
            log.warn("closing connection {} ({}) after unexpected error: {}", remoteAddress(), clientIdForLog(),
                    cause.toString());
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

    /** The client address a PROXY header announces, or null when the TCP peer stands for itself. */
    static InetSocketAddress announcedSource(HAProxyMessage m) {
        return io.switchboard.transport.ProxyHeaderAddresses.source(m);
    }

    // ---- decoding

    private void decode(ByteBuf buf) {
        at.parser.parse(buf, this);
    }

    /** Reading stops while a HELLO waits for its session (the rest stays in the cumulation), and once closing. */
    @Override
    public boolean paused() {
        return phase == CLOSING || phase == AWAITING_SESSION;
    }

    @Override
    public boolean accept(SwbVerb verb) {
        if (phase == NEW && verb != SwbVerb.HELLO) {
            protocolError(400, "HELLO must be the first frame", Refusal.MALFORMED_FRAME);
            return false;
        }
        if (phase != NEW && verb == SwbVerb.HELLO) {
            ctx.write(SwbFrames.line(ctx.alloc(), "ERR 400 already welcomed"), ctx.voidPromise());
            return false;
        }
        return true;
    }

    @Override
    public void onAck(long seq) {
        session.ack(seq);
        session.pump(false);
    }

    @Override
    public void onPing() {
        ctx.write(SwbFrames.pong(ctx.alloc()), ctx.voidPromise());
    }

    @Override
    public void onPong() {
        // Activity already noted; nothing to answer.
    }

    @Override
    public void onBye() {
        // The client leaves: flush what is queued for it, then close.
        phase = CLOSING;
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void onError(int code, String text) {
        ctx.write(SwbFrames.line(ctx.alloc(), "ERR " + code + " " + text), ctx.voidPromise());
    }

    @Override
    public void onMalformed(int code, String text) {
        protocolError(code, text, code == 413 ? Refusal.FRAME_TOO_LARGE : Refusal.MALFORMED_FRAME);
    }

    @Override
    public void onHello(String clientId, String token, long resume, int hb) {
        if (at.shared.registry().draining()) {
            at.shared.metrics().refused(Refusal.DRAINING);
            closeWith(503, "draining", retrySpreadMs());
            return;
        }
        String authFailure = at.shared.services().authenticator().verify(clientId, token, at.shard.nowMs());
        if (authFailure != null) {
            at.shared.metrics().refused(Refusal.AUTH_FAILED);
            closeWith(401, sanitize(authFailure), 0);
            return;
        }
        hbSec = at.shared.config().clampHeartbeat(hb);
        pending = new Hello(clientId, resume);
        phase = AWAITING_SESSION;
        ctx.channel().config().setAutoRead(false);
        at.shared.registry().hello(clientId, this);
    }

    // ---- Handshake

    @Override
    public SessionShard shard() {
        return at.shard;
    }

    @Override
    public boolean open() {
        return phase == AWAITING_SESSION && ctx.channel().isActive();
    }

    @Override
    public void complete(Session s) {
        long resumeSeq = ((Hello) pending).resumeSeq();
        session = s;
        pending = null;
        phase = OPEN;
        timeSec = (int) at.shard.nowSec();
        s.attach(this, resumeSeq, at.shard.nowMs());
        ctx.write(SwbFrames.welcome(ctx.alloc(), s.id(), hbSec, s.lastSeq(), at.shared.config().nodeName),
                ctx.voidPromise());
        s.pump(false);
        if (hbSec > 0) {
            at.shard.loop().schedule(this, deadlineSec());
        } else {
            at.shard.loop().cancelDeadline(this);
        }
        ctx.channel().config().setAutoRead(true);
        if (cumulation != null) {
            decode(cumulation);
            keepRemainder();
        }
        ctx.flush();
    }

    @Override
    public void superseded() {
        if (phase == AWAITING_SESSION) {
            closeWith(409, "taken over", 0);
        }
    }

    // ---- upstream and topics

    @Override
    public void onSend(String sendId, byte[] payload) {
        at.shared.metrics().sendsReceived.increment();
        if (pendingSends >= at.shared.config().maxPendingSendsPerClient) {
            at.shared.metrics().refused(Refusal.SEND_TOO_MANY_PENDING);
            ctx.write(SwbFrames.line(ctx.alloc(), "NACK " + sendId + " 429 too many unanswered SENDs"),
                    ctx.voidPromise());
            return;
        }
        pendingSends++;
        at.shared.services().upstream().offer(session.id(), sendId, payload, new UpstreamSink.Callback() {
            @Override
            public void accepted() {
                answerSend("SENT " + sendId, true);
            }

            @Override
            public void refused(int code, String reason) {
                answerSend("NACK " + sendId + " " + code + " " + sanitize(reason), false);
            }
        });
    }

    private void answerSend(String line, boolean accepted) {
        if (!at.shard.inLoop()) {
            at.shard.execute(() -> answerSend(line, accepted));
            return;
        }
        pendingSends--;
        if (accepted) {
            at.shared.metrics().sendsAccepted.increment();
        } else {
            at.shared.metrics().refused(Refusal.SEND_NACKED);
        }
        if (phase == OPEN) {
            ctx.writeAndFlush(SwbFrames.line(ctx.alloc(), line), ctx.voidPromise());
        }
    }

    @Override
    public void onSub(String topic) {
        onSub(topic, true);
    }

    @Override
    public void onUnsub(String topic) {
        onSub(topic, false);
    }

    private void onSub(String topic, boolean subscribe) {
        String verb = subscribe ? "SUB" : "UNSUB";
        if (subscribe) {
            int max = at.shared.config().maxSubscriptionsPerClient;
            if (session.subscribe(topic, max) == Session.Subscribed.LIMIT) {
                at.shared.metrics().refused(Refusal.TOO_MANY_SUBSCRIPTIONS);
                ctx.write(SwbFrames.line(ctx.alloc(), "ERR 429 SUB " + topic + " too many subscriptions (max "
                        + max + ")"), ctx.voidPromise());
                return;
            }
        } else {
            session.unsubscribe(topic);
        }
        ctx.write(SwbFrames.line(ctx.alloc(), "OK " + verb + " " + topic), ctx.voidPromise());
    }

    // ---- ClientLink

    @Override
    public void writeMessage(Message m) {
        ctx.write(SwbFrames.msg(ctx.alloc(), m.seq(), m.payload()), ctx.voidPromise());
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    /** The session let go of this connection (takeover or API disconnect): say why and close. */
    @Override
    public void close(int code, String text, long retryMs) {
        session = null;
        closeWith(code, text, retryMs);
    }

    @Override
    public String remoteAddress() {
        SocketAddress a = peer();
        if (a instanceof InetSocketAddress isa) {
            return isa.getAddress().getHostAddress() + ":" + isa.getPort();
        }
        return String.valueOf(a);
    }

    /** Drain: ask the client to come back after {@code retryMs} and close. */
    public void drain(long retryMs) {
        if (phase != CLOSING) {
            closeWith(503, "draining", retryMs);
        }
    }

    // ---- deadlines (ShardMember)

    @Override
    public long deadlineSec() {
        if (phase != OPEN) {
            return timeSec;
        }
        if (hbSec == 0) {
            return Long.MAX_VALUE;
        }
        return timeSec + 2L * hbSec + at.shared.config().idleGraceSec;
    }

    @Override
    public void onDeadline(long nowSec) {
        if (phase == AWAITING_PROXY_HEADER) {
            // No SWB/1 yet, and the peer is a proxy that failed to speak: close without a BYE, like a bad header.
            phase = CLOSING;
            at.shared.metrics().refused(Refusal.PROXY_HEADER);
            log.debug("closing connection {}: no PROXY header within {} s", ctx.channel().remoteAddress(),
                    at.shared.config().acceptProxyTimeoutSec);
            ctx.close();
        } else if (phase == NEW || phase == AWAITING_SESSION) {
            at.shared.metrics().refused(Refusal.HANDSHAKE_TIMEOUT);
            closeWith(408, "handshake timeout", 0);
        } else if (phase == OPEN) {
            at.shared.metrics().refused(Refusal.IDLE_TIMEOUT);
            closeWith(408, "idle", 0);
        } else if (phase == CLOSING) {
            ctx.close(); // the BYE could not be flushed within the grace period
        }
    }

    @Override
    public Session session() {
        return session;
    }

    @Override
    public int wheelSlot() {
        return wheelPos < 0 ? -1 : wheelPos >>> 21;
    }

    @Override
    public int wheelIndex() {
        return wheelPos < 0 ? -1 : wheelPos & ((1 << 21) - 1);
    }

    @Override
    public void wheelPosition(int slot, int index) {
        if (index >= 1 << 21) {
            throw new IllegalStateException("more than 2M deadlines in one second on one loop");
        }
        this.wheelPos = slot < 0 ? -1 : (slot << 21) | index;
    }

    @Override
    public int memberIndex() {
        return memberIndex;
    }

    @Override
    public void memberIndex(int index) {
        this.memberIndex = index;
    }

    // ---- helpers

    private void protocolError(int code, String text, Refusal reason) {
        at.shared.metrics().refused(reason);
        closeWith(code, text, 0);
    }

    /** Sends {@code BYE}, then closes once it is flushed; input is discarded from now on. */
    private void closeWith(int code, String text, long retryMs) {
        phase = CLOSING;
        // The session is done with this connection now: it must not report it online or write to it meanwhile.
        Session s = session;
        session = null;
        if (s != null) {
            at.shared.registry().connectionClosed(s, this);
        }
        if (ctx.channel().isActive()) {
            // Lingering close: send BYE, then FIN, and read (discarding) until the client closes. Closing at once
            // with unread input would make the kernel send RST, which can destroy the BYE before the client reads it.
            ctx.writeAndFlush(SwbFrames.bye(ctx.alloc(), code, text, retryMs)).addListener(f -> {
                if (f.isSuccess() && ctx.channel() instanceof DuplexChannel duplex) {
                    duplex.shutdownOutput();
                } else {
                    ctx.close();
                }
            });
            ctx.channel().config().setAutoRead(true);
            // A client that neither reads its BYE nor closes is closed after a grace period.
            timeSec = (int) at.shard.nowSec() + CLOSE_GRACE_SEC;
            at.shard.loop().schedule(this, timeSec);
        } else {
            ctx.close();
        }
    }

    private long retrySpreadMs() {
        int spread = at.shared.config().reconnectSpreadMs;
        return spread <= 0 ? 1000 : 1000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(spread);
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

    /** The client: the address its PROXY header announced (behind a proxy), else the TCP peer. */
    private SocketAddress peer() {
        return announced != null ? announced : ctx.channel().remoteAddress();
    }

    private InetAddress remoteIp() {
        return peer() instanceof InetSocketAddress isa ? isa.getAddress() : null;
    }

    private String clientIdForLog() {
        Session s = session;
        return s != null ? s.id() : pending instanceof Hello h ? h.clientId() : "before HELLO";
    }

    /** Keeps text sent back to a client on one printable ASCII line. */
    static String sanitize(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && sb.length() < 200; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }
}
