package io.switchboard.protocol.swb;

import static io.switchboard.protocol.swb.SwbRig.out;
import static io.switchboard.protocol.swb.SwbRig.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.metrics.Refusal;
import io.switchboard.service.PushResult;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SwbConnectionTest {
    private final SwbRig rig = new SwbRig();

    @AfterEach
    void tearDown() {
        rig.close();
    }

    private EmbeddedChannel hello(String line) {
        EmbeddedChannel ch = rig.connect();
        send(ch, line);
        return ch;
    }

    @Test
    void shouldWelcomeClientWithDefaultHeartbeat() {
        rig.start();
        EmbeddedChannel ch = hello("HELLO alice\n");
        assertEquals("WELCOME alice v=1 hb=60 seq=0\n", out(ch));
        assertEquals(1, rig.metrics.sessionsOnline.get());
    }

    @Test
    void shouldClampRequestedHeartbeatAndNameTheNode() {
        rig.config.heartbeatMinSec = 10;
        rig.config.heartbeatMaxSec = 100;
        rig.config.nodeName = "n1";
        rig.start();
        assertEquals("WELCOME a v=1 hb=10 seq=0 node=n1\n", out(hello("HELLO a v=1 hb=2\n")));
        assertEquals("WELCOME b v=1 hb=100 seq=0 node=n1\n", out(hello("HELLO b hb=999\n")));
        assertEquals("WELCOME c v=1 hb=10 seq=0 node=n1\n", out(hello("HELLO c hb=0\n")),
                "hb=0 (never idle-closed) only where --hb-min 0 allows it");
    }

    @Test
    void shouldDecodeFrameSplitAcrossReads() {
        rig.start();
        EmbeddedChannel ch = rig.connect();
        send(ch, "HEL");
        send(ch, "LO al");
        assertEquals("", out(ch));
        send(ch, "ice\r");
        send(ch, "\nPI");
        send(ch, "NG\r\n");
        assertEquals("WELCOME alice v=1 hb=60 seq=0\nPONG\n", out(ch));
    }

    @Test
    void shouldNotTouchItsPartialFrameBufferAgainWhenAHelloSplitAcrossReadsCompletesAtOnce() {
        rig.start();
        EmbeddedChannel ch = rig.connect();
        ch.config().setAllocator(new StrictAllocator());
        send(ch, "HELLO al");
        send(ch, "ice\n"); // completed inside the parse of the partial-frame buffer, which ends with it
        assertEquals("WELCOME alice v=1 hb=60 seq=0\n", out(ch));
        send(ch, "PING\n");
        assertEquals("PONG\n", out(ch));
        assertTrue(ch.isOpen());
        assertEquals(0, rig.metrics.loopErrors.sum());
    }

    /** Heap buffers that refuse {@code isReadable()} once released: a recycled pooled one may belong to another. */
    private static final class StrictAllocator extends io.netty.buffer.AbstractByteBufAllocator {
        StrictAllocator() {
            super(false);
        }

        @Override
        protected io.netty.buffer.ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return new io.netty.buffer.UnpooledHeapByteBuf(this, initialCapacity, maxCapacity) {
                @Override
                public boolean isReadable() {
                    ensureAccessible();
                    return super.isReadable();
                }
            };
        }

        @Override
        protected io.netty.buffer.ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return newHeapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    @Test
    void shouldDecodeMergedFramesIncludingOnesAfterHello() {
        rig.start();
        EmbeddedChannel ch = hello("HELLO bob\nPING\nSUB news\nPING\n");
        assertEquals("WELCOME bob v=1 hb=60 seq=0\nPONG\nOK SUB news\nPONG\n", out(ch));
    }

    @Test
    void shouldRefuseAnythingButHelloFirst() {
        rig.start();
        EmbeddedChannel ch = hello("PING\n");
        assertEquals("BYE 400 HELLO must be the first frame\n", out(ch));
        assertFalse(ch.isOpen());
        assertEquals(1, rig.metrics.refusals(Refusal.MALFORMED_FRAME));
    }

    @Test
    void shouldCloseWith413WhenControlLineIsTooLong() {
        rig.config.maxLineBytes = 64;
        rig.start();
        EmbeddedChannel ch = rig.connect();
        send(ch, "HELLO " + "x".repeat(100));
        assertEquals("BYE 413 control line longer than 64 bytes\n", out(ch));
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldRejectInvalidClientIdAndVersionAndOptions() {
        rig.start();
        assertTrue(out(hello("HELLO bad/id\n")).startsWith("BYE 400 client id must be"));
        assertTrue(out(hello("HELLO " + "a".repeat(129) + "\n")).startsWith("BYE 400 client id must be"));
        assertTrue(out(hello("HELLO a v=2\n")).startsWith("BYE 400 unsupported protocol version"));
        assertTrue(out(hello("HELLO a resume=x\n")).startsWith("BYE 400 resume must be"));
        assertTrue(out(hello("HELLO a junk\n")).startsWith("BYE 400 HELLO options are key=value"));
        assertTrue(out(hello(" HELLO a\n")).startsWith("BYE 400 line starts with a space"));
    }

    @Test
    void shouldIgnoreEmptyLinesBeforeAndAfterHello() {
        rig.start();
        EmbeddedChannel ch = hello("\r\n\nHELLO a\n\nPING\n");
        assertEquals("WELCOME a v=1 hb=60 seq=0\nPONG\n", out(ch));
        assertTrue(ch.isOpen());
    }

    @Test
    void shouldIgnoreUnknownHelloOptions() {
        rig.start();
        assertEquals("WELCOME a v=1 hb=60 seq=0\n", out(hello("HELLO a future=1\n")));
    }

    @Test
    void shouldAnswerUnknownCommandWithErrAndStayOpen() {
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\nFROB x\nHELLO a\nPING\n");
        assertEquals("WELCOME a v=1 hb=60 seq=0\nERR 400 unknown command FROB\nERR 400 already welcomed\nPONG\n",
                out(ch));
        assertTrue(ch.isOpen());
    }

    @Test
    void shouldCloseOnMalformedAck() {
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\nACK nope\n");
        assertEquals("WELCOME a v=1 hb=60 seq=0\nBYE 400 ACK needs a sequence number\n", out(ch));
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldNackSendWhenNoUpstreamIsConfigured() {
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\nSEND s1 5\nhe");
        send(ch, "llo\n");
        assertEquals("WELCOME a v=1 hb=60 seq=0\nNACK s1 503 no upstream configured\n", out(ch));
        assertEquals(1, rig.metrics.sendsReceived.sum());
    }

    @Test
    void shouldCloseWhenSendPayloadIsNotFollowedByLf() {
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\nSEND s1 2\nabX");
        assertEquals("WELCOME a v=1 hb=60 seq=0\nBYE 400 payload not followed by LF\n", out(ch));
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldCloseWith413WhenSendPayloadIsTooLarge() {
        rig.config.maxPayloadBytes = 10;
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\nSEND s1 11\n");
        assertEquals("WELCOME a v=1 hb=60 seq=0\nBYE 413 payload larger than 10 bytes\n", out(ch));
    }

    @Test
    void shouldSubscribeUnsubscribeAndRefuseBadTopics() {
        rig.config.maxSubscriptionsPerClient = 1;
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\nSUB t1\nSUB t/2\nSUB t3\nUNSUB t1\n");
        assertEquals("WELCOME a v=1 hb=60 seq=0\nOK SUB t1\n"
                + "ERR 400 SUB topic must be 1-128 characters of [A-Za-z0-9._:@-]\n"
                + "ERR 429 SUB t3 too many subscriptions (max 1)\nOK UNSUB t1\n", out(ch));
    }

    @Test
    void shouldDeliverPushAndForgetItOnAck() {
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\n");
        out(ch);
        PushResult r = rig.push("a", "hi\nthere", 0);
        assertEquals(200, r.status());
        assertEquals(1, r.seq());
        assertTrue(r.delivered());
        assertEquals("MSG 1 8\nhi\nthere\n", out(ch));
        send(ch, "ACK 1\n");
        assertEquals(1, rig.metrics.messagesAcked.sum());
    }

    @Test
    void shouldKeepAtMostWindowMessagesInFlight() {
        rig.config.windowMessages = 2;
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\n");
        out(ch);
        rig.push("a", "1", 0);
        rig.push("a", "2", 0);
        PushResult third = rig.push("a", "3", 0);
        assertFalse(third.delivered());
        assertEquals("MSG 1 1\n1\nMSG 2 1\n2\n", out(ch));
        send(ch, "ACK 2\n");
        assertEquals("MSG 3 1\n3\n", out(ch));
    }

    @Test
    void shouldRefusePushToOfflineClientWithoutTtl() {
        rig.start();
        assertEquals(404, rig.push("nobody", "x", 0).status());
        assertEquals(0, rig.registry.size());
        assertEquals(1, rig.metrics.refusals(Refusal.CLIENT_OFFLINE));
    }

    @Test
    void shouldRefusePushWhenClientQueueIsFull() {
        rig.config.windowMessages = 1;
        rig.config.maxQueuedMessagesPerClient = 2;
        rig.start();
        out(hello("HELLO a\n"));
        assertEquals(200, rig.push("a", "1", 0).status());
        assertEquals(200, rig.push("a", "2", 0).status());
        assertEquals(429, rig.push("a", "3", 0).status());
    }

    @Test
    void shouldResendRetainedMessagesAfterResumeButNotTtlZeroOnes() {
        rig.start();
        EmbeddedChannel first = hello("HELLO a\n");
        out(first);
        rig.push("a", "kept1", 60);
        rig.push("a", "gone", 0);
        rig.push("a", "kept3", 60);
        assertEquals("MSG 1 5\nkept1\nMSG 2 4\ngone\nMSG 3 5\nkept3\n", out(first));
        first.close();
        rig.runAll();
        assertEquals(0, rig.metrics.sessionsOnline.get());
        PushResult offline = rig.push("a", "later", 60);
        assertEquals(4, offline.seq());
        assertFalse(offline.delivered());
        EmbeddedChannel second = hello("HELLO a resume=1\n");
        rig.runAll(); // the session still belongs to the first connection's loop: the handover runs there
        assertEquals("WELCOME a v=1 hb=60 seq=4\nMSG 3 5\nkept3\nMSG 4 5\nlater\n", out(second));
    }

    @Test
    void shouldDropExpiredRetainedMessages() {
        rig.start();
        rig.connect(); // an event loop for the offline session to live on
        rig.push("a", "old", 10);
        rig.clock.advanceSec(11);
        EmbeddedChannel ch = hello("HELLO a\n");
        rig.runAll();
        assertEquals("WELCOME a v=1 hb=60 seq=1\n", out(ch));
        assertEquals(1, rig.metrics.messagesExpired.sum());
    }

    @Test
    void shouldForgetOfflineSessionOnceItsMessagesExpire() {
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\n"); // creates the loop state the sweep runs on
        out(ch);
        rig.push("b", "old", 3);
        assertEquals(2, rig.registry.size());
        rig.clock.advanceSec(10);
        rig.tick();
        assertEquals(1, rig.registry.size());
    }

    @Test
    void shouldLetTheNewestConnectionTakeOver() {
        rig.start();
        EmbeddedChannel older = hello("HELLO a\n");
        out(older);
        rig.push("a", "x", 60);
        out(older);
        EmbeddedChannel newer = hello("HELLO a resume=0\n");
        rig.runAll();
        assertEquals("BYE 409 taken over\n", out(older));
        assertFalse(older.isOpen());
        assertEquals("WELCOME a v=1 hb=60 seq=1\nMSG 1 1\nx\n", out(newer));
        assertEquals(1, rig.metrics.takeovers.sum());
        assertEquals(1, rig.metrics.sessionsOnline.get());
        PushResult r = rig.push("a", "y", 0);
        assertEquals(2, r.seq());
        assertEquals("MSG 2 1\ny\n", out(newer));
    }

    @Test
    void shouldCloseConnectionThatNeverSaysHello() {
        rig.start();
        EmbeddedChannel ch = rig.connect();
        rig.clock.advanceSec(9);
        rig.tick();
        assertTrue(ch.isOpen());
        rig.clock.advanceSec(2);
        rig.tick();
        assertEquals("BYE 408 handshake timeout\n", out(ch));
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldCloseIdleConnectionAfterTwoHeartbeatsAndGrace() {
        rig.config.heartbeatMinSec = 5;
        rig.config.idleGraceSec = 10;
        rig.start();
        EmbeddedChannel quiet = hello("HELLO q hb=5\n");
        EmbeddedChannel chatty = hello("HELLO c hb=5\n");
        out(quiet);
        out(chatty);
        for (int i = 0; i < 4; i++) {
            rig.clock.advanceSec(5);
            rig.tick();
            send(chatty, "PING\n");
        }
        assertEquals("BYE 408 idle\n", out(quiet));
        assertFalse(quiet.isOpen());
        assertTrue(chatty.isOpen());
        assertEquals(1, rig.metrics.refusals(Refusal.IDLE_TIMEOUT));
    }

    @Test
    void shouldNeverTimeOutClientWithoutApplicationHeartbeats() {
        rig.config.heartbeatMinSec = 0;
        rig.start();
        EmbeddedChannel ch = hello("HELLO a hb=0\n");
        out(ch);
        rig.clock.advanceSec(5000);
        rig.tick();
        assertTrue(ch.isOpen());
    }

    @Test
    void aFreshTokenForAConnectionWithoutHeartbeatsPutsNoDeadlineOnTheWheel() {
        rig.config.heartbeatMinSec = 0;
        rig.start();
        EmbeddedChannel ch = hello("HELLO a hb=0\n");
        out(ch);
        var c = ch.pipeline().get(io.switchboard.connection.ClientConnection.class);
        assertEquals(-1, c.wheelSlot(), "no deadline: not on the wheel");
        send(ch, "AUTH fresh\n");
        out(ch);
        assertTrue(ch.isOpen());
        assertEquals(-1, c.wheelSlot(), "still none after AUTH (a token without exp)");
    }

    @Test
    void shouldRefuseClientWhoseTokenFailsAuthentication() {
        rig.authenticator = (id, token, now) -> "secret".equals(token) ? null : "bad token";
        rig.start();
        assertEquals("BYE 401 bad token\n", out(hello("HELLO a token=nope\n")));
        assertEquals("WELCOME a v=1 hb=60 seq=0\n", out(hello("HELLO a token=secret\n")));
        assertEquals(1, rig.metrics.refusals(Refusal.AUTH_FAILED));
    }

    @Test
    void shouldSendClientsAwayWithRetryHintWhileDraining() {
        rig.config.reconnectSpreadMs = 500;
        rig.start();
        EmbeddedChannel welcomed = hello("HELLO a\n");
        out(welcomed);
        rig.registry.startDraining();
        EmbeddedChannel late = rig.connect();
        String bye = out(late);
        assertTrue(bye.matches("BYE 503 draining retry=1[0-4][0-9][0-9]\n"), bye);
        assertFalse(late.isOpen());
        assertEquals(503, rig.push("a", "x", 0).status());
    }

    @Test
    void shouldBroadcastToEveryWelcomedClientAndPublishToSubscribersOnly() throws Exception {
        rig.start();
        EmbeddedChannel a = hello("HELLO a\nSUB news\n");
        EmbeddedChannel b = hello("HELLO b\n");
        out(a);
        out(b);
        var published = rig.registry.pushes().publish("news", "n".getBytes(StandardCharsets.US_ASCII));
        rig.runAll();
        assertEquals(1L, published.get().delivered());
        assertEquals("MSG 1 1\nn\n", out(a));
        assertEquals("", out(b));
        var all = rig.registry.pushes().broadcast("all".getBytes(StandardCharsets.US_ASCII));
        rig.runAll();
        assertEquals(2L, all.get().delivered());
        assertEquals("MSG 2 3\nall\n", out(a));
        assertEquals("MSG 1 3\nall\n", out(b));
    }

    @Test
    void shouldKeepSubscriptionsWhenTheSessionIsTakenOverFromAnotherLoop() throws Exception {
        rig.start();
        EmbeddedChannel older = hello("HELLO a\nSUB news\n");
        assertEquals("WELCOME a v=1 hb=60 seq=0\nOK SUB news\n", out(older));
        EmbeddedChannel newer = hello("HELLO a resume=0\n"); // its own channel: another event loop, another shard
        rig.runAll();
        assertEquals("BYE 409 taken over\n", out(older));
        out(newer);
        var published = rig.registry.pushes().publish("news", "n".getBytes(StandardCharsets.US_ASCII));
        rig.runAll();
        assertEquals(1L, published.get().delivered(), "the subscription moved with the session to the new shard");
        assertEquals("MSG 1 1\nn\n", out(newer));
        assertEquals("OK UNSUB news\n", exchange(newer, "UNSUB news\n"));
        var again = rig.registry.pushes().publish("news", "m".getBytes(StandardCharsets.US_ASCII));
        rig.runAll();
        assertEquals(0L, again.get().delivered());
    }

    @Test
    void shouldDropTheSessionsSubscriptionsWhenAHelloStartsAfreshWithoutResume() throws Exception {
        rig.start();
        EmbeddedChannel older = hello("HELLO a\nSUB news\n");
        out(older);
        EmbeddedChannel newer = hello("HELLO a\nSUB sport\n"); // a new process of the same client: no resume
        rig.runAll();
        assertEquals("BYE 409 taken over\n", out(older));
        assertEquals("WELCOME a v=1 hb=60 seq=0\nOK SUB sport\n", out(newer));
        var news = rig.registry.pushes().publish("news", "n".getBytes(StandardCharsets.US_ASCII));
        rig.runAll();
        assertEquals(0L, news.get().delivered(), "it never subscribed to news");
    }

    @Test
    void shouldKeepSubscriptionsOfAnOfflineSessionForItsNextConnectionButNotDeliverMeanwhile() throws Exception {
        rig.start();
        EmbeddedChannel first = hello("HELLO a\nSUB news\n");
        out(first);
        rig.push("a", "kept", 60); // a stored message keeps the session while the client is away
        out(first);
        first.close();
        rig.runAll();
        var whileAway = rig.registry.pushes().publish("news", "x".getBytes(StandardCharsets.US_ASCII));
        rig.runAll();
        assertEquals(0L, whileAway.get().delivered(), "topic pushes are ttl 0: nobody to deliver to");
        EmbeddedChannel second = hello("HELLO a resume=1\n");
        rig.runAll();
        out(second);
        var back = rig.registry.pushes().publish("news", "y".getBytes(StandardCharsets.US_ASCII));
        rig.runAll();
        assertEquals(1L, back.get().delivered());
        assertEquals("MSG 2 1\ny\n", out(second));
    }

    @Test
    void shouldForgetSubscriptionsWhenTheSessionEnds() throws Exception {
        rig.start();
        EmbeddedChannel ch = hello("HELLO a\nSUB news\n");
        out(ch);
        ch.close();
        rig.runAll();
        assertEquals(0, rig.registry.size());
        var published = rig.registry.pushes().publish("news", "x".getBytes(StandardCharsets.US_ASCII));
        rig.runAll();
        assertEquals(0L, published.get().delivered());
        assertEquals(0, rig.loops.values().iterator().next().topicCount(), "the topic index let go of it");
    }

    private static String exchange(EmbeddedChannel ch, String text) {
        send(ch, text);
        return out(ch);
    }
}
