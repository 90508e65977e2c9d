package io.switchboard.protocol.swb;

import io.netty.buffer.ByteBuf;
import io.switchboard.connection.ClientConnection;
import io.switchboard.connection.ShardContext;
import io.switchboard.metrics.Refusal;
import io.switchboard.session.Message;
import io.switchboard.session.Session;
import io.switchboard.swb.SwbClientFrameParser;
import io.switchboard.swb.SwbFrames;
import io.switchboard.swb.SwbVerb;
import io.switchboard.upstream.UpstreamSink;

/**
 * The SWB/1 adapter: one client connection speaking SWB/1. It decodes frames with the shared parser and maps them
 * onto the session core (HELLO starts a session, AUTH renews its token, ACK acknowledges, SUB/UNSUB change the session's subscriptions,
 * SEND goes to the upstream sink), and writes the core's messages as {@code MSG} frames. Everything a connection
 * does whatever its protocol (admission, deadlines, takeover, drain, lingering close) is {@link ClientConnection}'s.
 *
 * <p>Owned by the channel's event loop: every method runs there.
 */
public final class SwbConnection extends ClientConnection<SwbAdapter> implements SwbClientFrameParser.Handler {
    /** SENDs the upstream has not answered yet; bounded by {@code --max-pending-sends}. */
    private short pendingSends;

    SwbConnection(ShardContext<SwbAdapter> at) {
        super(at);
    }

    // ---- decoding

    @Override
    protected void decode(ByteBuf buf) {
        at.adapter.parser.parse(buf, this);
    }

    /** Reading stops while a HELLO waits for its session (the rest stays buffered), and once closing. */
    @Override
    public boolean paused() {
        return inputPaused();
    }

    @Override
    public boolean accept(SwbVerb verb) {
        if (beforeHello() && verb != SwbVerb.HELLO) {
            protocolError(400, "HELLO must be the first frame", Refusal.MALFORMED_FRAME);
            return false;
        }
        if (verb != SwbVerb.SEND) {
            // A SEND counts once, when whole (onSend): the parser asks again at each read while its payload arrives.
            countFrame();
            if (!beforeHello() && !isOpen()) {
                return false; // that frame was one too many for too long: closing with 429, nothing more handled
            }
        }
        if (!beforeHello() && verb == SwbVerb.HELLO) {
            ctx.write(SwbFrames.line(ctx.alloc(), "ERR 400 already welcomed"), ctx.voidPromise());
            return false;
        }
        return true;
    }

    @Override
    public void onAck(long seq) {
        session().ack(seq);
        session().pump(false);
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
        leave();
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
        hello(clientId, token, resume, hb);
    }

    @Override
    public void onAuth(String token) {
        if (renewToken(token)) {
            ctx.write(SwbFrames.line(ctx.alloc(), "OK AUTH"), ctx.voidPromise());
        }
    }

    // ---- upstream and topics

    @Override
    public void onSend(String sendId, byte[] payload) {
        countFrame();
        if (!isOpen()) {
            return; // closing with 429: the client sends it again later
        }
        at.shared.metrics().sendsReceived.increment();
        if (drainWaits()) {
            refused(Refusal.SEND_NACKED);
            ctx.writeAndFlush(SwbFrames.line(ctx.alloc(), "NACK " + sendId + " 503 draining"), ctx.voidPromise());
            return;
        }
        if (pendingSends >= at.shared.config().maxPendingSendsPerClient) {
            refused(Refusal.SEND_TOO_MANY_PENDING);
            ctx.write(SwbFrames.line(ctx.alloc(), "NACK " + sendId + " 429 too many unanswered SENDs"),
                    ctx.voidPromise());
            return;
        }
        pendingSends++;
        at.shared.services().upstream().offer(session().id(), sendId, payload, new UpstreamSink.Callback() {
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
            refused(Refusal.SEND_NACKED);
        }
        if (isOpen()) {
            ctx.writeAndFlush(SwbFrames.line(ctx.alloc(), line), ctx.voidPromise());
            upstreamAnswerWritten();
        }
    }

    @Override
    protected boolean awaitsUpstream() {
        return pendingSends > 0;
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
            if (session().subscribe(topic, max) == Session.Subscribed.LIMIT) {
                refused(Refusal.TOO_MANY_SUBSCRIPTIONS);
                ctx.write(SwbFrames.line(ctx.alloc(), "ERR 429 SUB " + topic + " too many subscriptions (max "
                        + max + ")"), ctx.voidPromise());
                return;
            }
        } else {
            session().unsubscribe(topic);
        }
        ctx.write(SwbFrames.line(ctx.alloc(), "OK " + verb + " " + topic), ctx.voidPromise());
    }

    // ---- frames out

    @Override
    public void writeMessage(Message m) {
        ctx.write(SwbFrames.msg(ctx.alloc(), m.seq(), m.payload()), ctx.voidPromise());
    }

    @Override
    protected void writeWelcome(Session s, int hbSec) {
        s.keepOfflineFor(0, at.shard.nowMs()); // SWB/1 sessions end with their last stored message
        ctx.write(SwbFrames.welcome(ctx.alloc(), s.id(), hbSec, s.lastSeq(), at.shared.config().nodeName),
                ctx.voidPromise());
    }

    @Override
    protected Object goodbye(int code, String text, long retryMs) {
        return SwbFrames.bye(ctx.alloc(), code, text, retryMs);
    }
}
