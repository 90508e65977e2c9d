package io.switchboard.protocol.ws;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.switchboard.connection.ClientConnection;
import io.switchboard.connection.Framing;
import io.switchboard.metrics.Refusal;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * WebSocket (RFC 6455) in front of a client connection, as one handler for the connection's life: first the HTTP
 * upgrade (parsed by hand, answered 101 or refused with an HTTP status), which picks the protocol by path and adds
 * its connection behind this handler; then the frames. Client frames are unmasked in place and their payloads
 * passed on as they arrive, so a message is never gathered whole here and the protocol above sees the byte stream
 * it would see over TCP (one or more of its frames per WebSocket message, text or binary, or one split across
 * messages). What the connection writes leaves as one binary message per write. Pings are answered here;
 * a close is echoed and ends the connection. No extension is ever agreed (permessage-deflate would cost some
 * 300 KB of native memory per connection).
 *
 * <p>Owned by the channel's event loop. Idle it holds a few ints and no buffer.
 */
public final class WebSocketFraming extends ChannelDuplexHandler implements Framing {
    private static final byte HANDSHAKE = 0;
    private static final byte OPEN = 1;
    /** A close frame was sent or received: input is discarded, nothing more is written. */
    private static final byte CLOSED = 2;

    /** How long a refused upgrade's socket stays to read what its client still sends (see answerAndClose). */
    private static final int REFUSAL_LINGER_SEC = 2;
    private static final int OP_CONTINUATION = 0;
    private static final int OP_TEXT = 1;
    private static final int OP_BINARY = 2;
    private static final int OP_CLOSE = 8;
    private static final int OP_PING = 9;
    private static final int OP_PONG = 10;
    private static final int MAX_CONTROL_PAYLOAD = 125;

    static final int CLOSE_NORMAL = 1000;
    static final int CLOSE_GOING_AWAY = 1001;
    static final int CLOSE_PROTOCOL_ERROR = 1002;
    static final int CLOSE_UNSUPPORTED_DATA = 1003;
    static final int CLOSE_INVALID_DATA = 1007;
    static final int CLOSE_POLICY_VIOLATION = 1008;
    static final int CLOSE_TOO_BIG = 1009;
    static final int CLOSE_TRY_AGAIN_LATER = 1013;

    private final WebSocketAdapter adapter;
    /** During the handshake: the request head so far; after it: an incomplete frame header or control frame. */
    private ByteBuf pending;
    /**
     * Data frames' payloads of the read being handled, handed on together ({@link #handOn}): one per frame, a client
     * sending one-byte frames made the connection parse its unfinished line again for each (585 frames in one 4 KiB
     * read, and with a large --max-line a quadratic scan). Null outside {@link #frames}.
     */
    private ByteBuf batch;
    private ScheduledFuture<?> handshakeTimeout;
    /** With {@code --accept-proxy}: the decoded PROXY header, held until the upgrade adds the connection. */
    private Object proxyHeader;
    /** Payload bytes of the current data frame not read yet; 0 = a frame header comes next. */
    private int remaining;
    /** The current data frame's masking key, and the key byte the next payload byte is masked with. */
    private int mask;
    private byte maskIndex;
    private byte phase = HANDSHAKE;
    /** A fragmented message is under way: continuation frames are expected, a new message is not. */
    private boolean inMessage;
    /** The route takes text messages (SWB/1's lines); MQTT is carried in binary ones only (MQTT-6.0.0-1). */
    private boolean takesText;
    /** The current message is text: its bytes must be UTF-8 (RFC 6455 8.1), checked as they come in {@link #utf8}. */
    private boolean textMessage;
    /** Where the current text message's UTF-8 stands ({@link Utf8Check#scan}): 0 at a character's boundary. */
    private int utf8;
    /** The client address whose place under the connection limits this holds until the connection takes it. */
    private java.net.InetAddress admitted;
    /** Where the search for the end of the request head goes on (it is not searched from the start each read). */
    private int headScanned;
    /** The close frame's code and reason when this framing ends the connection itself (0: the connection's). */
    private int ownCloseCode;
    private String ownCloseReason;

    WebSocketFraming(WebSocketAdapter adapter) {
        this.adapter = adapter;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // The socket holds its place under the connection limits from now, as over TCP (else sockets that never
        // upgrade would escape them); the connection the upgrade adds takes that place over. With --accept-proxy
        // the limits count the address the PROXY header announces, from its arrival (see channelRead).
        if (adapter.shared().config().acceptProxy) {
            if (ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress peer
                    && !adapter.shared().config().trustedProxy(peer.getAddress())) {
                // As over TCP: its header could announce any address and so escape the limits. Unheard.
                adapter.shared().metrics().refused(Refusal.PROXY_UNTRUSTED, adapter.name());
                phase = CLOSED;
                ctx.close();
                return;
            }
        } else if (ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress peer && !admit(ctx, peer)) {
            return;
        }
        // The connection comes with the upgrade; until then this deadline bounds the wait.
        handshakeTimeout = ctx.executor().schedule(() -> {
            if (phase == HANDSHAKE) {
                refuse(ctx, 408, "no WebSocket upgrade request within the handshake timeout");
            }
        }, adapter.handshakeTimeoutSec(), TimeUnit.SECONDS);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelHandshakeTimeout();
        releasePending();
        if (admitted != null) { // never upgraded: its place is freed here
            adapter.shared().guard().release(admitted);
            admitted = null;
        }
        ReferenceCountUtil.release(proxyHeader);
        proxyHeader = null;
        phase = CLOSED;
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            if (phase == HANDSHAKE && proxyHeader == null) {
                proxyHeader = msg; // the PROXY header (--accept-proxy), for the connection the upgrade starts
                java.net.InetSocketAddress announced = msg instanceof io.netty.handler.codec.haproxy.HAProxyMessage m
                        ? ClientConnection.announcedSource(m) : null;
                java.net.SocketAddress client = announced != null ? announced : ctx.channel().remoteAddress();
                if (client instanceof java.net.InetSocketAddress isa) {
                    admit(ctx, isa); // the address the header announces holds the place from now
                }
            } else {
                ctx.fireChannelRead(msg);
            }
            return;
        }
        switch (phase) {
            case HANDSHAKE -> handshake(ctx, in);
            case OPEN -> frames(ctx, in);
            default -> in.release();
        }
    }

    /** Takes {@code client}'s place under the limits, or refuses the socket (answered, counted): false then. */
    private boolean admit(ChannelHandlerContext ctx, java.net.InetSocketAddress client) {
        Refusal refusal = ClientConnection.admission(adapter.shared(), client.getAddress());
        if (refusal != null) {
            adapter.shared().metrics().refused(refusal, adapter.name());
            int status = ClientConnection.refusalStatus(refusal);
            // Under load (429, 503): when to come back, spread as a TCP client's BYE retry= is.
            int spreadMs = adapter.shared().config().reconnectSpreadMs;
            int retryAfterSec = status == 429 || status == 503
                    ? 1 + (spreadMs <= 0 ? 0 : java.util.concurrent.ThreadLocalRandom.current().nextInt(spreadMs) / 1000)
                    : 0;
            answerAndClose(ctx, status, ClientConnection.refusalText(refusal), retryAfterSec);
            return false;
        }
        admitted = client.getAddress();
        return true;
    }

    @Override
    public boolean handOverAdmission() {
        boolean held = admitted != null;
        admitted = null;
        return held;
    }

    /**
     * Before the upgrade nothing stands behind this handler: a reset, a failed TLS handshake or a bad PROXY header
     * ends the socket quietly here (counted where it is a refusal) instead of reaching the pipeline's end as a
     * warning with a stack trace. After it the connection handles its own.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ctx.pipeline().get(ClientConnection.class) != null) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (cause instanceof io.netty.handler.codec.haproxy.HAProxyProtocolException && phase == HANDSHAKE) {
            adapter.shared().metrics().refused(Refusal.PROXY_HEADER, adapter.name());
        } else if (io.switchboard.transport.ServerTls.isTlsError(cause) && phase != CLOSED) {
            // wss:// only: a page trying ws://, or a client that does not trust the certificate (as on MQTT's port)
            adapter.shared().metrics().refused(Refusal.TLS_FAILED, adapter.name());
        }
        org.slf4j.LoggerFactory.getLogger(WebSocketFraming.class).debug("closing WebSocket {} before its upgrade: {}",
                ctx.channel().remoteAddress(), cause.toString());
        phase = CLOSED;
        ctx.close();
    }

    // ---- the upgrade

    private void handshake(ChannelHandlerContext ctx, ByteBuf in) {
        if (pending == null) {
            pending = ctx.alloc().heapBuffer(Math.min(in.readableBytes(), UpgradeRequest.MAX_HEAD_BYTES));
        }
        pending.writeBytes(in);
        in.release();
        int end = headEnd(pending, Math.max(pending.readerIndex(), headScanned - 3));
        headScanned = pending.writerIndex();
        if (end < 0) {
            if (pending.readableBytes() > UpgradeRequest.MAX_HEAD_BYTES) {
                refuse(ctx, 431, "request head longer than " + UpgradeRequest.MAX_HEAD_BYTES + " bytes");
            }
            return;
        }
        if (end - pending.readerIndex() > UpgradeRequest.MAX_HEAD_BYTES) {
            refuse(ctx, 431, "request head longer than " + UpgradeRequest.MAX_HEAD_BYTES + " bytes");
            return;
        }
        byte[] head = new byte[end - pending.readerIndex()];
        pending.readBytes(head);
        pending.skipBytes(4);
        UpgradeRequest request;
        try {
            request = UpgradeRequest.parse(head);
        } catch (UpgradeRequest.Refused e) {
            refuse(ctx, e.status, e.getMessage());
            return;
        }
        WebSocketAdapter.Route route = adapter.route(request.path());
        if (route == null) {
            refuse(ctx, 404, "no WebSocket endpoint " + ClientConnection.sanitize(request.path())
                    + ": use /swb (SWB/1) or /mqtt (MQTT)");
            return;
        }
        if (!request.originAllowed(adapter.allowedOrigins())) {
            adapter.shared().metrics().refused(Refusal.WS_ORIGIN, adapter.name());
            answerAndClose(ctx, 403, "origin " + ClientConnection.sanitize(request.origin())
                    + " is not in --ws-allowed-origins");
            return;
        }
        cancelHandshakeTimeout();
        takesText = route.takesText();
        String subprotocol = route.chosen(request.subprotocols());
        ctx.write(Unpooled.wrappedBuffer(request.switchingProtocols(subprotocol)), ctx.voidPromise());
        phase = OPEN;
        ByteBuf rest = pending;
        pending = null;
        // The protocol's connection starts now: admission, the hello's deadline, as over TCP.
        ctx.pipeline().addLast(route.connection().apply(ctx.channel()));
        ctx.fireChannelActive();
        if (proxyHeader != null) {
            Object header = proxyHeader;
            proxyHeader = null;
            ctx.fireChannelRead(header);
        }
        if (rest.isReadable() && phase == OPEN) {
            frames(ctx, rest);
        } else {
            rest.release();
        }
        ctx.flush();
    }

    /** Where the blank line ending the request head starts in {@code b}, from {@code from} on, or -1. */
    private static int headEnd(ByteBuf b, int from) {
        for (int i = from, last = b.writerIndex() - 4; i <= last; i++) {
            if (b.getInt(i) == 0x0d0a0d0a) {
                return i;
            }
        }
        return -1;
    }

    /** Refuses the upgrade: counted, answered with an HTTP status, closed. */
    private void refuse(ChannelHandlerContext ctx, int status, String reason) {
        adapter.shared().metrics().refused(Refusal.WS_HANDSHAKE, adapter.name());
        answerAndClose(ctx, status, reason);
    }

    private void answerAndClose(ChannelHandlerContext ctx, int status, String reason) {
        answerAndClose(ctx, status, reason, 0);
    }

    /**
     * Answers and closes with a lingering close, as {@link ClientConnection} does: the answer, then FIN, and what the
     * client still sends (its request, when refused on arrival; the rest of a head too large) read and dropped until
     * it closes, or {@link #REFUSAL_LINGER_SEC} passed. Closed at once with unread input, the kernel answers RST,
     * which can destroy the answer before the client read it.
     */
    private void answerAndClose(ChannelHandlerContext ctx, int status, String reason, int retryAfterSec) {
        phase = CLOSED;
        cancelHandshakeTimeout();
        releasePending();
        ctx.channel().config().setAutoRead(true);
        ClientConnection.writeThenShutdownOutput(ctx,
                Unpooled.wrappedBuffer(UpgradeRequest.refusal(status, reason, retryAfterSec)));
        ctx.executor().schedule(() -> ctx.close(), REFUSAL_LINGER_SEC, TimeUnit.SECONDS);
    }

    // ---- frames from the client

    private void frames(ChannelHandlerContext ctx, ByteBuf in) {
        if (deferredCloseCode != 0) {
            in.release(); // nothing may follow a close frame
            return;
        }
        ByteBuf buf = in;
        if (pending != null) {
            pending.writeBytes(in);
            in.release();
            buf = pending;
            pending = null;
        }
        try {
            while (buf.isReadable() && phase == OPEN && deferredCloseCode == 0) {
                if (remaining > 0) {
                    int n = Math.min(remaining, buf.readableBytes());
                    ByteBuf chunk = buf.readRetainedSlice(n);
                    unmask(chunk);
                    remaining -= n;
                    if (textMessage && (utf8 = Utf8Check.scan(utf8, chunk)) == Utf8Check.INVALID) {
                        chunk.release();
                        fail(ctx, CLOSE_INVALID_DATA, "a text message that is not UTF-8");
                        break;
                    }
                    collect(ctx, chunk);
                    if (remaining == 0) {
                        frameRead(ctx);
                    }
                } else if (!frameHeader(ctx, buf)) {
                    break; // incomplete
                }
            }
            handOn(ctx);
            if (buf.isReadable() && phase == OPEN && deferredCloseCode == 0) {
                pending = ctx.alloc().heapBuffer(Math.max(buf.readableBytes(), 16));
                pending.writeBytes(buf);
            }
        } finally {
            if (batch != null) { // only when a throw cut the read short: not handed on, not leaked
                batch.release();
                batch = null;
            }
            buf.release();
        }
    }

    /** Adds a data frame's payload to the read's batch. */
    private void collect(ChannelHandlerContext ctx, ByteBuf chunk) {
        if (batch == null) {
            batch = chunk;
            return;
        }
        if (!(batch instanceof io.netty.buffer.CompositeByteBuf)) {
            io.netty.buffer.CompositeByteBuf c = ctx.alloc().compositeBuffer(64);
            c.addComponent(true, batch);
            batch = c;
        }
        ((io.netty.buffer.CompositeByteBuf) batch).addComponent(true, chunk);
    }

    /** Hands the read's data on to the connection, in one piece: before a control frame, a failure, the read's end. */
    private void handOn(ChannelHandlerContext ctx) {
        ByteBuf b = batch;
        if (b != null) {
            batch = null;
            ctx.fireChannelRead(b);
        }
    }

    /**
     * Reads the frame header at {@code buf}'s reader index (and a control frame whole): false, reading nothing,
     * when it is not all there yet.
     */
    private boolean frameHeader(ChannelHandlerContext ctx, ByteBuf buf) {
        int at = buf.readerIndex();
        int available = buf.readableBytes();
        if (available < 2) {
            return false;
        }
        int b0 = buf.getUnsignedByte(at);
        int b1 = buf.getUnsignedByte(at + 1);
        // Checked on the first two bytes: an unmasked frame of under 4 bytes would otherwise wait for a masking key.
        if ((b0 & 0x70) != 0) {
            return fail(ctx, CLOSE_PROTOCOL_ERROR, "no extension was agreed: RSV bits must be 0");
        }
        if ((b1 & 0x80) == 0) {
            return fail(ctx, CLOSE_PROTOCOL_ERROR, "client frames must be masked");
        }
        boolean fin = (b0 & 0x80) != 0;
        int opcode = b0 & 0x0f;
        long length = b1 & 0x7f;
        int headerLength = 2;
        if (length == 126) {
            headerLength = 4;
            if (available < headerLength) {
                return false;
            }
            length = buf.getUnsignedShort(at + 2);
        } else if (length == 127) {
            headerLength = 10;
            if (available < headerLength) {
                return false;
            }
            length = buf.getLong(at + 2);
        }
        headerLength += 4;
        if (available < headerLength) {
            return false;
        }
        if (length < 0) {
            // The most significant bit of a 64-bit length must be 0 (RFC 6455 5.2): malformed, not merely large.
            return fail(ctx, CLOSE_PROTOCOL_ERROR, "a frame length with its most significant bit set");
        }
        if (length > adapter.maxFrameBytes()) {
            adapter.shared().metrics().refused(Refusal.FRAME_TOO_LARGE, adapter.name());
            return fail(ctx, CLOSE_TOO_BIG, "frame larger than " + adapter.maxFrameBytes() + " bytes");
        }
        int maskKey = buf.getInt(at + headerLength - 4);
        if (opcode >= OP_CLOSE) {
            if (!fin || length > MAX_CONTROL_PAYLOAD) {
                return fail(ctx, CLOSE_PROTOCOL_ERROR, "control frames are unfragmented and at most 125 bytes");
            }
            if (available < headerLength + length) {
                return false;
            }
            buf.skipBytes(headerLength);
            ByteBuf payload = buf.readSlice((int) length);
            mask = maskKey;
            maskIndex = 0;
            unmask(payload);
            control(ctx, opcode, payload);
            return true;
        }
        switch (opcode) {
            case OP_CONTINUATION -> {
                if (!inMessage) {
                    return fail(ctx, CLOSE_PROTOCOL_ERROR, "a continuation frame outside a message");
                }
            }
            case OP_TEXT, OP_BINARY -> {
                if (inMessage) {
                    return fail(ctx, CLOSE_PROTOCOL_ERROR, "a new message before the previous one ended");
                }
                if (opcode == OP_TEXT && !takesText) {
                    return fail(ctx, CLOSE_UNSUPPORTED_DATA, "MQTT is carried in binary messages only");
                }
                textMessage = opcode == OP_TEXT;
                utf8 = 0;
            }
            default -> {
                return fail(ctx, CLOSE_PROTOCOL_ERROR, "unknown opcode " + opcode);
            }
        }
        buf.skipBytes(headerLength);
        inMessage = !fin;
        mask = maskKey;
        maskIndex = 0;
        remaining = (int) length;
        if (remaining == 0) {
            frameRead(ctx);
            if (phase == OPEN) {
                // An empty data frame carries nothing, but costs a frame's work: it counts against the client's
                // frame budget like a ping (passed on empty, after the data before it), or a client sending
                // nothing but empty frames was never throttled.
                handOn(ctx);
                if (phase == OPEN) {
                    ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
                }
            }
        }
        return true;
    }

    /** A data frame's payload was all read: a text message that ends must end on a character's boundary. */
    private void frameRead(ChannelHandlerContext ctx) {
        if (!inMessage && textMessage && utf8 != 0) {
            fail(ctx, CLOSE_INVALID_DATA, "a text message that is not UTF-8 (it ends inside a character)");
        }
    }

    private void control(ChannelHandlerContext ctx, int opcode, ByteBuf payload) {
        handOn(ctx); // the data before it comes first (a close waits for it: holdsInputToRead)
        if (phase != OPEN) {
            return; // that data ended the connection (its own goodbye and close went out): nothing to answer
        }
        switch (opcode) {
            case OP_PING -> {
                if (ctx.channel().isWritable()) {
                    unansweredPing = null;
                    ctx.write(frame(ctx.alloc(), 0x80 | OP_PONG, payload), ctx.voidPromise());
                } else {
                    // Answered once the buffer drains (RFC 6455 5.5.3: a pong may answer only the latest ping): a
                    // client that pings without reading must not grow the outbound buffer without bound, and one
                    // whose pushes filled it still gets its pong (else its library takes the connection for dead).
                    unansweredPing = ByteBufUtil.getBytes(payload);
                }
                ctx.fireChannelRead(Unpooled.EMPTY_BUFFER); // the client is alive: its connection notes activity
            }
            case OP_PONG -> ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
            case OP_CLOSE -> {
                if (payload.readableBytes() == 1) {
                    fail(ctx, CLOSE_PROTOCOL_ERROR, "a close frame's payload is a 2-byte code and a reason");
                    return;
                }
                int code = payload.readableBytes() >= 2 ? payload.getUnsignedShort(payload.readerIndex())
                        : CLOSE_NORMAL;
                if (!sendableCloseCode(code) || !utf8(payload.skipBytes(Math.min(2, payload.readableBytes())))) {
                    fail(ctx, CLOSE_PROTOCOL_ERROR, "a close frame's code must be one an endpoint may send, its "
                            + "reason UTF-8");
                    return;
                }
                ClientConnection<?> connection = ctx.pipeline().get(ClientConnection.class);
                if (connection != null && connection.holdsInputToRead()) {
                    // Data frames before it were read, but the connection waits to read what they carried (its
                    // session, its frame budget): that comes first (RFC 6455 1.4), then this close, once it reads on.
                    deferredCloseCode = code;
                    connection.peerLeaving();
                    return;
                }
                endWith(ctx, code, "", 0); // the client's close, echoed
            }
            default -> fail(ctx, CLOSE_PROTOCOL_ERROR, "unknown control opcode " + opcode);
        }
    }

    /** The payload of the latest ping that came while the connection was not writable, or null. */
    private byte[] unansweredPing;

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (unansweredPing != null && phase == OPEN && ctx.channel().isWritable()) {
            ByteBuf payload = Unpooled.wrappedBuffer(unansweredPing);
            unansweredPing = null;
            ctx.writeAndFlush(frame(ctx.alloc(), 0x80 | OP_PONG, payload), ctx.voidPromise());
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** The code of a close frame that waits for the connection to read what came before it; 0 when none. */
    private int deferredCloseCode;

    /** The connection reads again (it asks the socket for more): a close frame that waited for it comes next. */
    @Override
    public void read(ChannelHandlerContext ctx) {
        if (deferredCloseCode != 0) {
            // After the task that resumed reading, which reads what the connection held first.
            ctx.executor().execute(() -> closeOnceInputRead(ctx));
        }
        ctx.read();
    }

    private void closeOnceInputRead(ChannelHandlerContext ctx) {
        ClientConnection<?> connection = ctx.pipeline().get(ClientConnection.class);
        if (deferredCloseCode == 0 || phase != OPEN || connection != null && connection.holdsInputToRead()) {
            return; // closed meanwhile (its DISCONNECT, say), or paused again: its next read comes back here
        }
        int code = deferredCloseCode;
        deferredCloseCode = 0;
        endWith(ctx, code, "", 0);
    }

    /** Ends the connection for a framing error: counted, and closed with {@code code} (see {@link #endWith}). */
    private boolean fail(ChannelHandlerContext ctx, int code, String reason) {
        handOn(ctx); // the data before the bad frame is read first, as it was sent
        if (phase != OPEN) {
            return false; // that data ended the connection already: counted and closed once
        }
        if (code != CLOSE_TOO_BIG) {
            adapter.shared().metrics().refused(Refusal.MALFORMED_FRAME, adapter.name());
        }
        endWith(ctx, code, reason, code == CLOSE_TOO_BIG ? 413 : 400);
        return false;
    }

    /**
     * Ends the connection with a close frame of {@code code}: through the connection behind, which lets its session
     * go at once and closes as it always does ({@code connectionCode} 0, the client's own close: flushed, then this
     * close frame; else its goodbye, this close frame, and a lingering close, so that the close frame is read
     * before the unread rest of a too large frame could make the kernel reset the connection).
     */
    private void endWith(ChannelHandlerContext ctx, int code, String reason, int connectionCode) {
        releasePending();
        ClientConnection<?> connection = ctx.pipeline().get(ClientConnection.class);
        if (connection != null && phase == OPEN) {
            ownCloseCode = code;
            ownCloseReason = reason;
            connection.framingEnded(connectionCode, reason); // writes this close frame through closeFrame
        }
        if (phase != CLOSED) { // no connection behind, or it was ending already
            phase = CLOSED;
            ctx.writeAndFlush(close(ctx.alloc(), code, reason)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** RFC 6455 7.4: a code a close frame may carry (not 1004-1006, 1015, nor unassigned ones below 3000). */
    static boolean sendableCloseCode(int code) {
        return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006
                || code >= 3000 && code <= 4999;
    }

    private static boolean utf8(ByteBuf b) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(b.nioBuffer());
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    private void unmask(ByteBuf b) {
        int i = b.readerIndex();
        int end = b.writerIndex();
        int k = maskIndex;
        for (; i < end; i++) {
            b.setByte(i, b.getByte(i) ^ (mask >>> (24 - 8 * k)));
            k = (k + 1) & 3;
        }
        maskIndex = (byte) k;
    }

    // ---- frames to the client

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof CloseFrame close) {
            phase = CLOSED;
            ctx.write(close.frame, promise);
            return;
        }
        int length = msg instanceof ByteBuf b ? b.readableBytes() : 0;
        if (length == 0 || phase == HANDSHAKE) {
            ctx.write(msg, promise); // the handshake's own answers, and empty flush markers
        } else if (phase == CLOSED) {
            ReferenceCountUtil.release(msg); // after a close frame nothing may follow
            promise.trySuccess();
        } else {
            ctx.write(header(ctx.alloc(), 0x80 | OP_BINARY, length), ctx.voidPromise());
            ctx.write(msg, promise);
        }
    }

    /**
     * After the protocol's goodbye, a close frame saying why in WebSocket terms: 1000 when the client left, 1001
     * when the server drains or stops, 1013 for load refusals (and an MQTT client sent away until the server can
     * take its message: 0x80 for the upstream, 0x88, 0x89, 0x97), 1009 for an oversize frame, 1008 for a protocol's
     * own error, and 4000 plus the code for the others (4401 unauthorized, 4408 idle, 4409 taken over).
     */
    @Override
    public Object closeFrame(ByteBufAllocator alloc, int code, String text) {
        if (phase != OPEN) {
            return null;
        }
        if (ownCloseCode != 0) {
            return new CloseFrame(close(alloc, ownCloseCode, ownCloseReason));
        }
        return new CloseFrame(close(alloc, closeCode(code), text));
    }

    static int closeCode(int code) {
        if (code < 0) {
            return switch (-code) { // an MQTT reason code
                case 0x95 -> CLOSE_TOO_BIG;
                // The server's condition, not the client's error: it comes back (and sends its message again)
                case 0x80, 0x88, 0x89, 0x97 -> CLOSE_TRY_AGAIN_LATER;
                default -> CLOSE_POLICY_VIOLATION;
            };
        }
        return switch (code) {
            case 0, 200 -> CLOSE_NORMAL;
            case 503 -> CLOSE_GOING_AWAY;
            case 429 -> CLOSE_TRY_AGAIN_LATER;
            case 413 -> CLOSE_TOO_BIG;
            default -> code >= 400 && code < 1000 ? 4000 + code : CLOSE_POLICY_VIOLATION;
        };
    }

    /** A close frame, written as it is (not wrapped in a binary message). */
    private record CloseFrame(ByteBuf frame) {
    }

    private static ByteBuf close(ByteBufAllocator alloc, int code, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, MAX_CONTROL_PAYLOAD - 2);
        ByteBuf payload = alloc.buffer(2 + n).writeShort(code).writeBytes(text, 0, n);
        try {
            return frame(alloc, 0x80 | OP_CLOSE, payload);
        } finally {
            payload.release();
        }
    }

    /** A whole unmasked frame with a copy of {@code payload} (control frames: at most 125 bytes). */
    private static ByteBuf frame(ByteBufAllocator alloc, int firstByte, ByteBuf payload) {
        int n = payload.readableBytes();
        return alloc.buffer(2 + n).writeByte(firstByte).writeByte(n).writeBytes(payload, payload.readerIndex(), n);
    }

    /** The header of an unmasked frame of {@code length} payload bytes. */
    static ByteBuf header(ByteBufAllocator alloc, int firstByte, int length) {
        if (length < 126) {
            return alloc.buffer(2).writeByte(firstByte).writeByte(length);
        }
        if (length < 65536) {
            return alloc.buffer(4).writeByte(firstByte).writeByte(126).writeShort(length);
        }
        return alloc.buffer(10).writeByte(firstByte).writeByte(127).writeLong(length);
    }

    private void cancelHandshakeTimeout() {
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
            handshakeTimeout = null;
        }
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }
}
