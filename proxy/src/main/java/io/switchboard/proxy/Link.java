package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.loop.Loop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One forwarded connection: the accepted client channel, the upstream channel and this object, which is the only
 * handler in both pipelines. Both channels live on the same event loop, so every field is touched by that one
 * thread only.
 *
 * <p>Flow: {@code AUTO_READ} is off on both sides and each side is read again only when the other side has handed
 * the previous chunk to the kernel (the water mark {@link OutboundSockets#ONE_CHUNK} turns the peer unwritable
 * while a byte waits). An idle connection holds no buffer. When one side's input ends, the other side's output is
 * shut down after its pending bytes; when both inputs ended, both close. A client that closes, resets or errs
 * closes the upstream after its pending bytes, and the other way round.
 *
 * <p>With {@code --splice}, once the upstream is connected the bytes go through kernel pipes instead and a
 * {@link Splicer} paces and ends them; the state machine here (admission, connect, FINs, close) stays the same.
 *
 * <p>The steps that need none of this connection's state live in stateless helpers ({@link Admission},
 * {@link ProxyHeaders}, {@link Tls}, {@link EarlyBytes}, {@link ChannelEnds}, {@link LinkErrors},
 * {@link Route#connectFailed}); the rest stays here, over 400 lines, because admission, connect and retry,
 * forwarding and the FINs share this one object's flags and fields, and splitting them into more objects would add
 * memory to every forwarded connection.
 */
@Sharable // one instance per connection, in the two pipelines of that connection (same event loop)
final class Link extends ChannelInboundHandlerAdapter implements ChannelFutureListener, Loop.Member {
    private static final Logger log = LoggerFactory.getLogger(Link.class);
    /** When a failure to open an upstream socket was last logged (once a minute: it comes in floods). */
    private static final java.util.concurrent.atomic.AtomicLong lastOpenFailureLogMs =
            new java.util.concurrent.atomic.AtomicLong(System.currentTimeMillis() - OutboundSockets.LOG_EVERY_MS);

    private static final int ADMITTED = 1;
    private static final int CONNECTING = 1 << 1;
    private static final int CONNECTED = 1 << 2;
    private static final int CLIENT_EOF = 1 << 3;
    private static final int UPSTREAM_EOF = 1 << 4;
    private static final int CLOSED = 1 << 5;
    private static final int HEADER_WAIT = 1 << 6;
    private static final int COUNTED = 1 << 7;
    private static final int RELEASED = 1 << 8;
    /** Refused (counted under its reason): the TLS handshake its close cuts short is not a refusal of its own. */
    private static final int REFUSED = 1 << 9;

    private final ProxyLoop loop;
    /** The route this connection was accepted under; a reload does not change it. */
    private final Route route;
    private final Channel client;
    /** Null unless the route splices. */
    private final Splicer splicer;
    private Channel upstream;
    private Upstream target;
    private InetAddress admittedIp;
    /** Original addresses from an accepted PROXY header; null when the TCP peer is the client. */
    private InetSocketAddress[] proxied;
    private ByteBuf early;
    private long triedMask;
    private int lastActiveSec;
    /** Position in the loop's member list; owned by {@link ProxyLoop}. */
    private int memberIndex = -1;
    private int flags;
    private int attempts;
    private int sourceTries;

    Link(ProxyLoop loop, Route route, Channel client) {
        this.loop = loop;
        this.route = route;
        this.client = client;
        if (route.config.splice) {
            splicer = new Splicer(this, loop.server.metrics);
            client.config().setRecvByteBufAllocator(splicer.toUpstream); // counts what the client's reads splice
        } else {
            splicer = null;
        }
    }

    // ---- accept, admission, connect

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (ctx.channel() != client) {
            return; // the upstream side: handled by the connect listener
        }
        ProxyServer s = loop.server;
        s.metrics.accepted.increment();
        s.metrics.active.incrementAndGet();
        loop.add(this);
        lastActiveSec = loop.nowSec;
        if (route.config.acceptProxy) {
            if (!route.config.acceptProxyFrom.contains(((InetSocketAddress) client.remoteAddress()).getAddress())) {
                refuse(ProxyMetrics.Refused.PROXY_UNTRUSTED); // unheard: its header could name any address
                return;
            }
            flags |= HEADER_WAIT;
            client.read(); // the decoder in front of us reads on until the header is complete
            return;
        }
        if (admit(((InetSocketAddress) client.remoteAddress()).getAddress())) {
            connectNext();
            if (route.ssl != null && (flags & CLOSED) == 0) {
                client.read(); // the TLS handshake runs while the upstream connects; early bytes are held
            }
        }
    }

    private void onProxyHeader(HAProxyMessage m) {
        flags &= ~HEADER_WAIT;
        proxied = ProxyHeaders.addresses(m);
        if (admit(ProxyHeaders.source(client, proxied))) {
            connectNext();
        }
    }

    private boolean admit(InetAddress ip) {
        ProxyMetrics.Refused refused = Admission.refusal(loop.server, route.config, ip);
        if (refused != null) {
            refuse(refused);
            return false;
        }
        flags |= ADMITTED;
        admittedIp = ip;
        return true;
    }

    private void refuse(ProxyMetrics.Refused reason) {
        flags |= REFUSED;
        loop.server.metrics.refused(reason);
        client.close();
    }

    /** Chooses an upstream this connection has not tried yet and connects to it, or gives up. */
    private void connectNext() {
        ProxyServer s = loop.server;
        int pick = attempts > route.config.retries ? -1
                : route.balancer.pick(triedMask, loop.rrCursor++, s.config.clock.nowMs());
        if (pick < 0) {
            refuse(ProxyMetrics.Refused.NO_UPSTREAM);
            return;
        }
        Upstream u = route.balancer.get(pick);
        attempts++;
        triedMask |= 1L << pick;
        sourceTries = 0;
        target = u;
        u.active.incrementAndGet();
        flags |= COUNTED;
        open();
    }

    private void open() {
        flags &= ~CONNECTING;
        ChannelFuture registered;
        try {
            registered = loop.server.outbound.open(loop.loop, this, route.config.connectTimeoutMs);
        } catch (RuntimeException e) {
            long now = System.currentTimeMillis();
            long last = lastOpenFailureLogMs.get();
            if (now - last >= OutboundSockets.LOG_EVERY_MS && lastOpenFailureLogMs.compareAndSet(last, now)) {
                log.warn("cannot open a socket towards {}: {} (switchboard_proxy_refused_total{{reason=\"local_socket\"}}"
                        + " counts them; logged once a minute)", target.label(), e.toString());
            }
            refuse(ProxyMetrics.Refused.LOCAL_SOCKET);
            return;
        }
        upstream = registered.channel();
        if (splicer != null) {
            upstream.config().setRecvByteBufAllocator(splicer.toClient);
        }
        registered.addListener(this);
    }

    /** Registration, then connect, of the current upstream channel completed. */
    @Override
    public void operationComplete(ChannelFuture f) {
        Channel ch = f.channel();
        if (ch != upstream || (flags & CLOSED) != 0) {
            ch.close(); // the client went away meanwhile
            return;
        }
        if (f.isSuccess()) {
            if ((flags & CONNECTING) == 0) {
                flags |= CONNECTING;
                ch.connect(target.address, loop.server.outbound.nextSource(loop, target.address)).addListener(this);
            } else {
                onConnected();
            }
            return;
        }
        ch.close();
        onConnectFailed(f.cause());
    }

    private void onConnectFailed(Throwable cause) {
        ProxyServer s = loop.server;
        long nowMs = s.config.clock.nowMs();
        ConnectError kind = ConnectError.classify(cause);
        s.metrics.connectError(kind);
        if (kind == ConnectError.NO_SOURCE_PORT) {
            s.metrics.sourcePortExhausted.increment();
            if (++sourceTries < s.outbound.sourceTryLimit(target.address)) {
                open(); // same upstream, next source address
                return;
            }
            s.outbound.allSourcesExhausted(target, nowMs);
        }
        Upstream failed = target;
        releaseTarget();
        route.connectFailed(failed, kind, cause, nowMs, s.metrics);
        connectNext();
    }

    private void onConnected() {
        ProxyServer s = loop.server;
        flags |= CONNECTED;
        flags &= ~CONNECTING;
        target.connected();
        s.metrics.forwarded.increment();
        lastActiveSec = loop.nowSec;
        if (route.config.sendProxy != RouteConfig.SendProxy.OFF) {
            ProxyHeaders.write(upstream, route.config.sendProxy, client, proxied);
        }
        if (early != null) {
            ByteBuf e = early;
            early = null;
            s.metrics.bytesToUpstream.add(e.readableBytes());
            upstream.write(e, upstream.voidPromise());
        }
        upstream.flush();
        if (splicer != null) {
            splicer.start(client, upstream, (flags & CLIENT_EOF) == 0); // reads both ways
            if ((flags & CLIENT_EOF) != 0) {
                shutdownOutputAfterFlush(upstream);
            }
            return;
        }
        if ((flags & CLIENT_EOF) != 0) {
            shutdownOutputAfterFlush(upstream);
        } else if (upstream.isWritable()) {
            client.read();
        }
        upstream.read();
    }

    // ---- forwarding

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel from = ctx.channel();
        if (from == client) {
            if ((flags & CONNECTED) == 0) {
                holdEarly(msg);
            } else {
                forward(msg, upstream, true);
            }
        } else if (from == upstream && (flags & CONNECTED) != 0) {
            forward(msg, client, false);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void forward(Object msg, Channel to, boolean toUpstream) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!to.isActive()) {
            buf.release(); // never hold a chunk for a side that is gone (the HexDumpProxy leak)
            return;
        }
        touch();
        (toUpstream ? loop.server.metrics.bytesToUpstream : loop.server.metrics.bytesToClient)
                .add(buf.readableBytes());
        // A failed write surfaces as exceptionCaught on the peer, which closes it: no listener per chunk.
        to.write(buf, to.voidPromise());
    }

    /** Before the upstream is connected: the PROXY header, or bytes that came with an early FIN. */
    private void holdEarly(Object msg) {
        if (msg instanceof HAProxyMessage m) {
            try {
                if ((flags & HEADER_WAIT) != 0) {
                    onProxyHeader(m);
                }
            } finally {
                m.release();
            }
            return;
        }
        if (!(msg instanceof ByteBuf b) || (flags & CLOSED) != 0) {
            ReferenceCountUtil.release(msg);
            return;
        }
        early = EarlyBytes.append(early, b, client.alloc());
        if (early.readableBytes() > EarlyBytes.MAX_BYTES) {
            refuse(ProxyMetrics.Refused.EARLY_BYTES);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if ((flags & CONNECTED) == 0) {
            return;
        }
        Channel from = ctx.channel();
        Channel to = from == client ? upstream : from == upstream ? client : null;
        if (to == null || splicer != null && splicer.readComplete(from)) {
            return;
        }
        to.flush();
        if (to.isWritable()) {
            from.read();
        } // else channelWritabilityChanged on `to` reads `from` once the chunk is out
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        if ((flags & CONNECTED) == 0 || !ch.isWritable()) {
            return;
        }
        if (splicer != null) {
            splicer.writabilityChanged(ch);
        } else if (ch == client && (flags & UPSTREAM_EOF) == 0) {
            upstream.read();
        } else if (ch == upstream && (flags & CLIENT_EOF) == 0) {
            client.read();
        }
    }

    // ---- half-close and close

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent hs) {
            if ((flags & REFUSED) == 0) {
                Tls.handshakeCompleted(hs, loop.server.metrics, client);
            }
            return;
        }
        // A TLS client's close_notify ends its input like a FIN (the OpenSSL engine cannot send after it either,
        // so a reply still coming from the upstream ends the connection when it is written).
        if (evt instanceof ChannelInputShutdownEvent || evt instanceof SslCloseCompletionEvent) {
            Channel from = ctx.channel();
            if (splicer == null || !splicer.inputShutdown(from)) { // a splicer passes it on once drained
                endOfInput(from);
            }
        }
        ReferenceCountUtil.release(evt);
    }

    /** {@code from}'s input ended and every byte it sent was forwarded. */
    void endOfInput(Channel from) {
        if (from == client && (flags & CLIENT_EOF) == 0) {
            flags |= CLIENT_EOF;
            if ((flags & CONNECTED) != 0) {
                inputEnded(client, upstream, UPSTREAM_EOF);
            } else if ((flags & HEADER_WAIT) != 0) {
                refuse(ProxyMetrics.Refused.PROXY_HEADER); // no header will come
            } // else onConnected shuts the upstream's output
        } else if (from == upstream && (flags & CONNECTED) != 0 && (flags & UPSTREAM_EOF) == 0) {
            flags |= UPSTREAM_EOF;
            inputEnded(upstream, client, CLIENT_EOF);
        }
    }

    /** {@code from}'s input ended: pass the FIN on to {@code to} after its pending bytes, or close both. */
    private void inputEnded(Channel from, Channel to, int toEofFlag) {
        if ((flags & toEofFlag) != 0) {
            ChannelEnds.closeAfterFlush(to, loop.server.metrics.closeFlushCutOff);
            ChannelEnds.closeAfterFlush(from, loop.server.metrics.closeFlushCutOff);
        } else {
            shutdownOutputAfterFlush(to);
        }
    }

    /** Passes a FIN on: after the pending bytes, and on a TLS client after a close_notify. */
    private void shutdownOutputAfterFlush(Channel to) {
        SslHandler tls = to == client && route.ssl != null ? client.pipeline().get(SslHandler.class) : null;
        if (tls != null) {
            Tls.shutdownOutputAfterFlush(tls, client);
        } else {
            ChannelEnds.shutdownOutputAfterFlush(to);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        if (ch == client) {
            flags |= CLOSED;
            release();
            if (upstream != null) {
                if ((flags & CONNECTED) != 0) {
                    ChannelEnds.closeAfterFlush(upstream, loop.server.metrics.closeFlushCutOff);
                } else {
                    upstream.close(); // still connecting: cancel
                }
            }
        } else if (ch == upstream && (flags & CONNECTED) != 0) {
            ChannelEnds.closeAfterFlush(client, loop.server.metrics.closeFlushCutOff);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LinkErrors.report(cause, loop.server.metrics, client);
        // Resets and broken pipes are ordinary; the other side closes after its pending bytes.
        ctx.channel().close();
    }

    /** Frees what this connection holds; once, when the client channel closed. */
    private void release() {
        if ((flags & RELEASED) != 0) {
            return;
        }
        flags |= RELEASED;
        ProxyServer s = loop.server;
        loop.remove(this);
        if ((flags & ADMITTED) != 0) {
            s.guard.release(admittedIp);
        }
        releaseTarget();
        if (splicer != null) {
            splicer.release();
        }
        if (early != null) {
            early.release();
            early = null;
        }
        // Last: a reader on another thread that sees one connection fewer active also sees its splice, its
        // upstream's count and its address's admission released (a test saw active 0 with one splice still counted).
        s.metrics.active.decrementAndGet();
    }

    private void releaseTarget() {
        if ((flags & COUNTED) != 0) {
            flags &= ~COUNTED;
            target.active.decrementAndGet();
        }
    }

    /** Bytes moved: the idle timeout starts again. */
    void touch() {
        lastActiveSec = loop.nowSec;
    }

    // ---- called by the loop's sweep and drain

    /** Closes this connection when past its idle or PROXY-header deadline; returns whether it did. */
    boolean sweep(int nowSec) {
        int quietSec = nowSec - lastActiveSec;
        if ((flags & HEADER_WAIT) != 0 && quietSec >= route.config.proxyHeaderTimeoutSec) {
            loop.server.metrics.refused(ProxyMetrics.Refused.PROXY_HEADER);
            closeBoth();
            return true;
        }
        int idle = route.idleTimeoutSec();
        if (idle > 0 && quietSec >= idle) {
            loop.server.metrics.idleClosed.increment();
            closeBoth();
            return true;
        }
        return false;
    }

    void closeBoth() {
        client.close();
        if (upstream != null) {
            upstream.close();
        }
    }

    @Override
    public int memberIndex() {
        return memberIndex;
    }

    @Override
    public void memberIndex(int index) {
        this.memberIndex = index;
    }

    // ---- for tests

    /** Bytes queued in this connection's two channels, not yet handed to the kernel. */
    long queuedBytes() {
        return ChannelEnds.pendingBytes(client) + (upstream == null ? 0 : ChannelEnds.pendingBytes(upstream))
                + (early == null ? 0 : early.readableBytes());
    }
}
