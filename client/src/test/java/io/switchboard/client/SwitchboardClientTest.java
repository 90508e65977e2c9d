package io.switchboard.client;

import static io.switchboard.client.FakeServer.Peer.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client against a scripted SWB/1 server on real loopback sockets. Time is a {@link ManualTime}: heartbeats,
 * ACK delays, handshake deadlines and reconnect backoff run only when a test advances it. Jitter is pinned to the
 * top of its range, so the first reconnect waits exactly 1,000 ms, the second 2,000 ms, and so on.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SwitchboardClientTest {
    private static final String WELCOME_0 = "WELCOME alice v=1 hb=0 seq=0";

    private static EventLoopGroup group;

    private final ManualTime time = new ManualTime();
    private final RecordingListener events = new RecordingListener();
    private final List<SwitchboardClient> clients = new ArrayList<>();
    private final List<Socket> held = new ArrayList<>();
    private FakeServer server;

    @BeforeAll
    static void startGroup() {
        group = SwitchboardClient.newEventLoopGroup(2);
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @BeforeEach
    void startServer() throws IOException {
        server = new FakeServer();
    }

    @AfterEach
    void stopEverything() throws Exception {
        List<CompletableFuture<Void>> closing = clients.stream().map(SwitchboardClient::closeAsync).toList();
        server.close();
        for (CompletableFuture<Void> f : closing) {
            f.get(5, TimeUnit.SECONDS);
        }
        for (Socket s : held) {
            s.close();
        }
    }

    // ------------------------------------------------------------------------------------------- handshake

    @Test
    void shouldSendHelloAndReportTheWelcome() throws Exception {
        SwitchboardClient c = client(builder("alice").token("t0k.en").heartbeatSeconds(30));
        CompletableFuture<Welcome> connected = c.connect();
        FakeServer.Peer p = server.accept();
        p.expect("HELLO alice v=1 token=t0k.en hb=30");
        assertFalse(connected.isDone());
        p.send("WELCOME alice v=1 hb=25 seq=4 node=n1");

        assertEquals(new Welcome("alice", 25, 4, "n1"), connected.get(5, TimeUnit.SECONDS));
        events.expect("connected seq=4 hb=25 node=n1");
        assertTrue(c.isConnected());
        assertEquals(new Welcome("alice", 25, 4, "n1"), c.welcome());
        assertEquals(0, c.highestSeq(), "a fresh session does not claim messages it never received");
        assertEquals(new Welcome("alice", 25, 4, "n1"), c.connect().get(5, TimeUnit.SECONDS), "connect() when connected");
    }

    @Test
    void shouldCloseWhenNoWelcomeArrivesInTime() throws Exception {
        SwitchboardClient c = client(builder("alice").connectTimeoutMs(3_000));
        c.connect();
        FakeServer.Peer p = server.accept();
        p.expect("HELLO alice v=1");
        barrier(c);
        time.advanceMs(2_999);
        assertEquals(List.of(1L), time.pendingDelaysMs(), "the handshake deadline, 1 ms away");
        time.advanceMs(1);

        expectDisconnected(1_000);
        assertTrue(events.lastCause.getMessage().contains("no WELCOME within 3000 ms"), events.lastCause.getMessage());
        assertTrue(p.closedByClient());
    }

    @Test
    void shouldFailConnectWhenTheHandshakeIsRefused() throws Exception {
        SwitchboardClient c = client(builder("alice").token("bad"));
        CompletableFuture<Welcome> connected = c.connect();
        FakeServer.Peer p = server.accept();
        p.expect("HELLO alice v=1 token=bad");
        p.send("BYE 401 authentication failed");

        SwitchboardException e = failure(connected, SwitchboardException.class);
        assertEquals(401, e.code());
        events.expect("bye 401 authentication failed");
        events.expect("disconnected SwitchboardException -1");
        assertEquals(List.of(), time.pendingDelaysMs(), "no reconnect scheduled");
    }

    @ParameterizedTest
    @ValueSource(strings = {"MSG 1 1\nx", "SENT s1", "WELCOME bob v=1 hb=0 seq=0"})
    void shouldTreatProtocolViolationsAsConnectionErrors(String firstServerFrame) throws Exception {
        SwitchboardClient c = client(builder("alice"));
        c.connect();
        FakeServer.Peer p = server.accept();
        p.expect("HELLO alice v=1");
        p.send(firstServerFrame);

        expectDisconnected(1_000);
        assertTrue(events.lastCause.getMessage().startsWith("protocol error"), events.lastCause.getMessage());
        assertTrue(p.closedByClient());
    }

    @Test
    void shouldReconnectAfterMalformedFrame() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.send("MSG 1 nope");

        expectDisconnected(1_000);
        assertTrue(events.lastCause.getMessage().startsWith("malformed frame from server"), events.lastCause.getMessage());
        assertTrue(p.closedByClient());
        time.advanceMs(1_000);
        server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        events.expect("connected seq=0 hb=0");
    }

    // ------------------------------------------------------------------------------------------ messages, ACKs

    @Test
    void shouldAckCumulativelyEvery32Messages() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);

        p.sendRaw(burst(1, 32));
        p.expect("ACK 32");
        for (int i = 1; i <= 32; i++) {
            events.expect("message " + i + " m" + i);
        }

        p.sendRaw(burst(33, 63));
        events.expect("message 33 m33");
        for (int i = 34; i <= 63; i++) {
            events.expect("message " + i + " m" + i);
        }
        barrier(c);
        p.send("PING");
        p.expect("PONG"); // nothing acknowledged after 31 messages
        p.sendMsg(64, "m64");
        p.expect("ACK 64");
        assertEquals(64, c.highestSeq());
    }

    @Test
    void shouldSendOneAckPerReadBatchNotOnePer32Messages() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);

        p.sendRaw(burst(1, 40)); // one write on loopback: one read batch
        p.expect("ACK 40");
    }

    @Test
    void shouldAckOneSecondAfterTheOldestUnacknowledgedMessage() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);

        p.sendMsg(1, "a");
        events.expect("message 1 a");
        barrier(c);
        time.advanceMs(500);
        p.sendMsg(2, "b");
        events.expect("message 2 b");
        barrier(c);
        time.advanceMs(499);
        p.send("PING");
        p.expect("PONG"); // 999 ms after the oldest: not yet
        time.advanceMs(1);
        p.expect("ACK 2");
    }

    @Test
    void shouldSkipReportAndAcknowledgeAMessageLargerThanItsLimitInsteadOfReconnectingForEver() throws Exception {
        SwitchboardClient c = client(builder("alice").maxPayloadBytes(4).ackPolicy(32, 0));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);

        p.sendMsg(1, "too large");
        p.sendMsg(2, "ok");
        events.expect("error 413 MSG 1 of 9 bytes is larger than maxPayloadBytes (4): skipped, not delivered");
        events.expect("message 2 ok");
        String ack = p.readLine(); // the skipped message acknowledged alone when it came in a read of its own
        assertEquals("ACK 2", ack.equals("ACK 1") ? p.readLine() : ack);
        assertEquals(2, c.highestSeq());
        p.sendMsg(3, "next");
        events.expect("message 3 next");
    }

    @Test
    void shouldAckAtTheEndOfEveryReadBatchWhenAckDelayIsZero() throws Exception {
        SwitchboardClient c = client(builder("alice").ackPolicy(32, 0));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);

        p.sendMsg(1, "a");
        p.expect("ACK 1");
    }

    @Test
    void shouldSuppressDuplicatesButStillAckThem() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);

        p.sendRaw(msg(1, "a") + msg(2, "b") + msg(3, "c"));
        p.sendRaw(msg(2, "b") + msg(4, "d"));
        events.expect("message 1 a");
        events.expect("message 2 b");
        events.expect("message 3 c");
        events.expect("message 4 d");
        p.close();
        expectDisconnected(1_000);

        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=4", "WELCOME alice v=1 hb=0 seq=5");
        events.expect("connected seq=5 hb=0");
        p2.sendRaw(msg(3, "c") + msg(4, "d") + "PING\n"); // re-sent copies only
        p2.expect("PONG");
        time.advanceMs(1_000);
        p2.expect("ACK 4");
        p2.sendMsg(5, "e");
        events.expect("message 5 e");
        assertEquals(5, c.highestSeq());
        barrier(c);
        assertNull(events.poll(), "no copy was delivered twice");
    }

    @Test
    void withManualAcknowledgementOnlyWhatTheApplicationAcknowledgedIsAcknowledgedAndResumedFrom() throws Exception {
        SwitchboardClient c = client(builder("alice").manualAcknowledgement().maxPayloadBytes(4));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);

        p.sendRaw(msg(1, "a") + msg(2, "b") + msg(3, "c"));
        events.expect("message 1 a");
        events.expect("message 2 b");
        events.expect("message 3 c");
        time.advanceMs(1_000);
        p.send("PING");
        p.expect("PONG"); // handed to the application's executor, say: nothing acknowledged yet
        c.acknowledge(2);
        barrier(c);
        time.advanceMs(1_000);
        p.expect("ACK 2");
        assertEquals(2, c.acknowledgedSeq());
        assertEquals(3, c.highestSeq());

        p.close(); // message 3 not handled yet: the server keeps it
        expectDisconnected(1_000);
        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=2", "WELCOME alice v=1 hb=0 seq=4");
        events.expect("connected seq=4 hb=0");
        p2.sendRaw(msg(3, "c") + "MSG 4 6\ntoobig\n" + msg(5, "e") + "PING\n"); // 3 again, 4 too large to deliver
        p2.expect("PONG");
        events.expect("error 413 MSG 4 of 6 bytes is larger than maxPayloadBytes (4): skipped, not delivered");
        events.expect("message 5 e");
        barrier(c);
        assertNull(events.poll(), "3 was not delivered twice");
        c.acknowledge(3); // the application finished 3: 4, skipped, is acknowledged with it
        barrier(c);
        time.advanceMs(1_000);
        p2.expect("ACK 4");
        c.acknowledge(5);
        barrier(c);
        time.advanceMs(1_000);
        p2.expect("ACK 5");
    }

    @Test
    void aSlowHostLookupDoesNotStopTheOtherClientsOfItsEventLoop() throws Exception {
        EventLoopGroup one = SwitchboardClient.newEventLoopGroup(1);
        java.util.concurrent.CountDownLatch dnsAnswers = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch neverAnswers = new java.util.concurrent.CountDownLatch(1);
        ClientSession.HostResolver before = ClientSession.hostResolver;
        ClientSession.hostResolver = host -> {
            if (host.equals("slow.example") || host.equals("never.example")) {
                try {
                    (host.equals("slow.example") ? dnsAnswers : neverAnswers).await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return java.net.InetAddress.getLoopbackAddress();
            }
            return before.resolve(host);
        };
        try {
            SwitchboardClient alice = client(builder("alice").eventLoopGroup(one).host("localhost"));
            FakeServer.Peer p = connect(alice, "HELLO alice v=1", WELCOME_0);
            SwitchboardClient bob = client(builder("bob").eventLoopGroup(one).host("slow.example"));
            CompletableFuture<Welcome> bobConnected = bob.connect();
            p.send("PING");
            p.expect("PONG"); // alice's loop is not held by bob's lookup
            dnsAnswers.countDown();
            server.acceptHello("HELLO bob v=1", "WELCOME bob v=1 hb=0 seq=0");
            bobConnected.get(5, TimeUnit.SECONDS);
            // Closed while its lookup waits: the close completes, nothing is dialled after.
            SwitchboardClient carol = client(builder("carol").eventLoopGroup(one).host("never.example"));
            CompletableFuture<Welcome> carolConnected = carol.connect();
            carol.closeAsync().get(5, TimeUnit.SECONDS);
            assertTrue(carolConnected.isCompletedExceptionally());
            neverAnswers.countDown();
        } finally {
            ClientSession.hostResolver = before;
            dnsAnswers.countDown();
            neverAnswers.countDown();
            // Its clients closed while their loop still runs (the teardown's close raced the loop's shutdown and
            // now and then timed out): the server side first, as the teardown does, since the test's clock drives the
            // linger after BYE.
            server.close();
            for (SwitchboardClient c : clients) {
                c.closeAsync().get(5, TimeUnit.SECONDS);
            }
            one.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aHungHostLookupDoesNotHoldTheLookupsOfOtherHosts() throws Exception {
        java.util.concurrent.CountDownLatch hung = new java.util.concurrent.CountDownLatch(1);
        ClientSession.HostResolver before = ClientSession.hostResolver;
        ClientSession.hostResolver = host -> {
            if (host.startsWith("hung")) {
                try {
                    hung.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new java.net.UnknownHostException(host);
            }
            return before.resolve(host);
        };
        try {
            client(builder("h1").host("hung1.example").reconnect(false)).connect();
            client(builder("h2").host("hung2.example").reconnect(false)).connect();
            SwitchboardClient alice = client(builder("alice").host("localhost"));
            connect(alice, "HELLO alice v=1", WELCOME_0); // looked up beside the two that hang
        } finally {
            ClientSession.hostResolver = before;
            hung.countDown();
        }
    }

    @Test
    void aConnectionThatLastedStartsTheBackoffOverAlsoWhenItEndsInARefusal() throws Exception {
        SwitchboardClient c = client(builder("alice").token("t1"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 token=t1", WELCOME_0);
        p.send("BYE 401 token expired");
        events.expect("bye 401 token expired");
        expectDisconnected(-1);
        c.updateToken("t2");
        c.connect();
        barrier(c);
        assertEquals(List.of(2_000L), time.pendingDelaysMs(), "a refusal right after a connect backs off");
        time.advanceMs(2_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 token=t2 resume=0", WELCOME_0);
        events.expect("connected seq=0 hb=0");
        time.advanceMs(30_000); // a day, say
        p2.send("BYE 401 token expired");
        events.expect("bye 401 token expired");
        expectDisconnected(-1);
        c.updateToken("t3");
        c.connect();
        barrier(c);
        assertEquals(List.of(2_000L), time.pendingDelaysMs(), "the backoff started over, not 4 s");
    }

    @Test
    void acknowledgeWithoutManualAcknowledgementIsAMistake() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        assertThrows(IllegalStateException.class, () -> c.acknowledge(1));
    }

    @Test
    void shouldReportSessionResetWhenTheServerLostTheSession() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connectAndDeliver(c, 5);
        p.close();
        expectDisconnected(1_000);

        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=5", "WELCOME alice v=1 hb=0 seq=2");
        events.expect("connected seq=2 hb=0");
        events.expect("reset 5->2");
        assertEquals(2, c.highestSeq());
        p2.sendMsg(3, "after reset");
        events.expect("message 3 after reset");
    }

    @Test
    void withManualAcknowledgementALostSessionTailIsReportedAndNotAcknowledged() throws Exception {
        SwitchboardClient c = client(builder("alice").manualAcknowledgement());
        FakeServer.Peer p = connectAndDeliver(c, 5);
        c.acknowledge(1);
        barrier(c);
        p.close();
        expectDisconnected(1_000);

        time.advanceMs(1_000);
        // Resumes from what was acknowledged; the server kept only up to 3 (a crash lost its last writes).
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=1", "WELCOME alice v=1 hb=0 seq=3");
        events.expect("connected seq=3 hb=0");
        events.expect("reset 5->3");
        assertEquals(3, c.highestSeq());
        assertEquals(1, c.acknowledgedSeq(), "2 and 3 are not acknowledged for the application");
        p2.sendRaw(msg(2, "m2") + msg(3, "m3") + msg(4, "new 4") + "PING\n"); // 2, 3 again; 4 is a new message
        p2.expect("PONG");
        events.expect("message 4 new 4");
        c.acknowledge(3);
        barrier(c);
        time.advanceMs(1_000);
        p2.expect("ACK 3");
        c.acknowledge(4);
        barrier(c);
        time.advanceMs(1_000);
        p2.expect("ACK 4");
    }

    @Test
    void withManualAcknowledgementWhatWasAcknowledgedWhileReconnectingIsAcknowledgedAfterTheWelcome() throws Exception {
        SwitchboardClient c = client(builder("alice").manualAcknowledgement());
        FakeServer.Peer p = connectAndDeliver(c, 3);
        p.close();
        expectDisconnected(1_000);
        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.accept();
        p2.expect("HELLO alice v=1 resume=0");
        c.acknowledge(3); // the application's work finished while the HELLO was on its way
        barrier(c);
        p2.send("WELCOME alice v=1 hb=0 seq=3");
        events.expect("connected seq=3 hb=0");
        p2.sendRaw(burst(1, 3)); // the server sends again what is above resume=0: its window fills with them
        barrier(c);
        time.advanceMs(1_000);
        p2.expect("ACK 3"); // without it nothing more would come (the window full of copies never acknowledged)
        assertEquals(null, events.poll(), "the acknowledged messages are not delivered again");
    }

    @Test
    void shouldResumeFromTheConfiguredSeqOnTheFirstConnect() throws Exception {
        SwitchboardClient c = client(builder("alice").resumeFrom(41));
        assertEquals(41, c.highestSeq());
        FakeServer.Peer p = connect(c, "HELLO alice v=1 resume=41", "WELCOME alice v=1 hb=0 seq=45");
        p.sendRaw(msg(41, "old") + msg(42, "new"));
        events.expect("message 42 new");
    }

    @Test
    void shouldKeepDeliveringWhenTheListenerThrows() throws Exception {
        SwitchboardListener throwing = new SwitchboardListener() {
            @Override
            public void onMessage(long seq, byte[] payload) {
                events.onMessage(seq, payload);
                throw new IllegalStateException("listener bug (expected by the test)");
            }
        };
        SwitchboardClient c = client(builder("alice").listener(throwing));
        CompletableFuture<Welcome> connected = c.connect();
        FakeServer.Peer p = server.acceptHello("HELLO alice v=1", WELCOME_0);
        connected.get(5, TimeUnit.SECONDS);
        p.sendMsg(1, "a");
        p.sendMsg(2, "b");
        events.expect("message 1 a");
        events.expect("message 2 b");
        barrier(c);
        time.advanceMs(1_000);
        p.expect("ACK 2");
    }

    @Test
    void shouldReceiveALargePayloadSplitAcrossManyReads() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        String big = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
        p.sendRaw(msg(1, big) + msg(2, "small"));
        assertEquals("message 1 " + big, events.next());
        events.expect("message 2 small");
    }

    @Test
    void shouldAckOnlyUpToTheMessageWhoseListenerClosedTheClient() throws Exception {
        closeFromTheListenerAt(2);
    }

    @Test
    void shouldAckTheFirstMessageOfABatchWhenItsListenerClosesTheClient() throws Exception {
        closeFromTheListenerAt(1); // nothing unacknowledged before it
    }

    private void closeFromTheListenerAt(long closeAt) throws Exception {
        SwitchboardClient[] self = new SwitchboardClient[1];
        SwitchboardListener closing = new SwitchboardListener() {
            @Override
            public void onMessage(long seq, byte[] payload) {
                events.onMessage(seq, payload);
                if (seq == closeAt) {
                    self[0].closeAsync();
                }
            }
        };
        SwitchboardClient c = client(builder("alice").listener(closing));
        self[0] = c;
        CompletableFuture<Welcome> connected = c.connect();
        FakeServer.Peer p = server.acceptHello("HELLO alice v=1", WELCOME_0);
        connected.get(5, TimeUnit.SECONDS);
        p.sendRaw(burst(1, 5)); // one read batch: those after closeAt arrive after the close
        for (long seq = 1; seq <= closeAt; seq++) {
            events.expect("message " + seq + " m" + seq);
        }
        p.expect("ACK " + closeAt);
        p.expect("BYE");
        p.close();
        c.closeAsync().get(5, TimeUnit.SECONDS);
        assertNull(events.poll(), "nothing delivered after close");
        assertEquals(closeAt, c.highestSeq());
    }

    // ----------------------------------------------------------------------------------------------- heartbeats

    @Test
    void shouldPingWhenNothingWasSentForHeartbeatSeconds() throws Exception {
        SwitchboardClient c = client(builder("alice").heartbeatSeconds(5));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 hb=5", "WELCOME alice v=1 hb=5 seq=0");

        time.advanceMs(4_999);
        p.send("PING");
        p.expect("PONG"); // answered, and not preceded by a PING of its own
        time.advanceMs(4_999);
        p.send("PING");
        p.expect("PONG"); // the PONG at 4,999 ms counts as sending
        time.advanceMs(5_000);
        p.expect("PING");
        p.send("PONG");
        time.advanceMs(5_000);
        p.expect("PING");
    }

    @Test
    void shouldPingWhenNothingWasReadForAHeartbeatThoughItKeepsWriting() throws Exception {
        // Writes the server does not answer at once (SENDs to a slow backend, manual ACKs) held its PINGs back,
        // and with nothing read for three heartbeats a live connection was closed as silent.
        SwitchboardClient c = client(builder("alice").heartbeatSeconds(1));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 hb=1", "WELCOME alice v=1 hb=1 seq=0");
        int pings = 0;
        for (int i = 1; i <= 8; i++) {
            time.advanceMs(500);
            c.send("s" + i, new byte[] {'x'});
            String line = p.readLine();
            while (line.equals("PING")) {
                pings++;
                p.send("PONG");
                awaitRead(c);
                line = p.readLine();
            }
            assertEquals("SEND s" + i + " 1", line);
            p.readBytes(1);
            p.expect("");
        }
        assertTrue(pings >= 3, "pinged while it kept writing: " + pings);
        assertTrue(c.isConnected(), "not taken for silent");
    }

    @Test
    void aLargeMessageArrivingSlowerThanThreeHeartbeatsIsNotSilence() throws Exception {
        SwitchboardClient c = client(builder("alice").heartbeatSeconds(1));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 hb=1", "WELCOME alice v=1 hb=1 seq=0");

        p.sendRaw("MSG 1 4000\n");
        for (int chunk = 0; chunk < 4; chunk++) { // 4,000 bytes over 4 s: longer than 3 heartbeats
            p.sendRaw("x".repeat(1_000));
            awaitRead(c);
            time.advanceMs(1_000);
            p.expect("PING"); // the PONG to it would wait behind the message
        }
        p.sendRaw("\n");
        assertEquals("message 1 " + "x".repeat(4_000), events.next());
    }

    /** Waits until the client has read what was sent now (its last read carries the current time). */
    private void awaitRead(SwitchboardClient c) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (c.lastReadNanos() != time.getAsLong()) {
            assertTrue(System.nanoTime() < deadline, "the client never read what was sent");
            Thread.sleep(5);
        }
    }

    @Test
    void shouldCloseWhenTheServerIsSilentForThreeHeartbeats() throws Exception {
        SwitchboardClient c = client(builder("alice").heartbeatSeconds(1));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 hb=1", "WELCOME alice v=1 hb=1 seq=0");

        time.advanceMs(1_000);
        p.expect("PING");
        time.advanceMs(1_000);
        p.expect("PING");
        time.advanceMs(1_000);

        expectDisconnected(1_000);
        assertTrue(events.lastCause.getMessage().startsWith("server silent for 3000 ms"), events.lastCause.getMessage());
        assertTrue(p.closedByClient());
    }

    @Test
    void shouldNotPingWhenTheServerDisablesHeartbeats() throws Exception {
        SwitchboardClient c = client(builder("alice").heartbeatSeconds(5));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 hb=5", "WELCOME alice v=1 hb=0 seq=0");
        assertEquals(List.of(), time.pendingDelaysMs(), "no heartbeat timer");
        time.advanceMs(3_600_000);
        p.send("PING");
        p.expect("PONG");
    }

    // ------------------------------------------------------------------------------------------- reconnecting

    @Test
    void shouldBackOffExponentiallyAndResetOnlyAfterAConnectionThatLasted() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.close();
        expectDisconnected(1_000);

        time.advanceMs(1_000);
        server.accept().expectAndClose("HELLO alice v=1 resume=0");
        expectDisconnected(2_000);
        time.advanceMs(1_999);
        assertEquals(List.of(1L), time.pendingDelaysMs(), "still waiting");
        time.advanceMs(1);
        server.accept().expectAndClose("HELLO alice v=1 resume=0");
        expectDisconnected(4_000);

        time.advanceMs(4_000);
        FakeServer.Peer p4 = server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        events.expect("connected seq=0 hb=0");
        p4.close();
        expectDisconnected(8_000); // welcomed but dropped at once: the backoff keeps growing (no ping-pong)

        time.advanceMs(8_000);
        FakeServer.Peer p5 = server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        events.expect("connected seq=0 hb=0");
        time.advanceMs(30_000);
        p5.close();
        expectDisconnected(1_000); // a connection that lasted 30 s starts the backoff over
    }

    @ParameterizedTest
    @ValueSource(strings = {"409 taken over", "503 draining"})
    void shouldReconnectAfterTheServersRetryDelay(String byeReason) throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.send("BYE " + byeReason + " retry=5000");

        events.expect("bye " + byeReason);
        expectDisconnected(5_500); // retry plus at most a tenth of it as jitter
        assertEquals(Integer.parseInt(byeReason.substring(0, 3)), ((SwitchboardException) events.lastCause).code());
        assertTrue(p.closedByClient());
        time.advanceMs(5_499);
        assertEquals(List.of(1L), time.pendingDelaysMs());
        time.advanceMs(1);
        server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        events.expect("connected seq=0 hb=0");
    }

    @Test
    void shouldBackOffAfterTakeoverWithoutRetry() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.send("BYE 409 taken over");
        events.expect("bye 409 taken over");
        expectDisconnected(1_000);
    }

    @ParameterizedTest
    @ValueSource(ints = {401, 403})
    void shouldNotReconnectAfterBye401Or403(int code) throws Exception {
        SwitchboardClient c = client(builder("alice").token("old"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 token=old", WELCOME_0);
        p.sendMsg(1, "a");
        events.expect("message 1 a");
        p.send("BYE " + code + " refused retry=10");

        events.expect("bye " + code + " refused");
        events.expect("disconnected SwitchboardException -1");
        assertEquals(code, ((SwitchboardException) events.lastCause).code());
        p.expect("ACK 1"); // what arrived is acknowledged before leaving
        assertTrue(p.closedByClient());
        assertFalse(c.isConnected());
        assertEquals(List.of(), time.pendingDelaysMs(), "no reconnect scheduled");

        c.updateToken("new");
        CompletableFuture<Welcome> again = c.connect();
        barrier(c);
        // Not at once: a token source that keeps giving refused tokens must not have the client dial at the round
        // trip's pace; the attempt waits out the backoff (its first step: up to 2 s).
        assertEquals(1, time.pendingDelaysMs().size(), "the attempt is scheduled");
        time.advanceMs(2_000);
        server.acceptHello("HELLO alice v=1 token=new resume=1", "WELCOME alice v=1 hb=0 seq=1");
        again.get(5, TimeUnit.SECONDS);
    }

    @Test
    void shouldSendAFreshTokenWithAuthWhileConnected() throws Exception {
        SwitchboardClient c = client(builder("alice").token("old"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 token=old", WELCOME_0);
        c.updateToken("new");
        p.expect("AUTH new"); // the session outlives the old token's expiry
        p.send("OK AUTH");
        p.sendMsg(1, "a");
        events.expect("message 1 a");
        assertTrue(c.isConnected());
    }

    @Test
    void aTokenGivenWhileTheHelloWasOnItsWayIsSentWithAuthOnceWelcomed() throws Exception {
        SwitchboardClient c = client(builder("alice").token("old"));
        CompletableFuture<Welcome> connected = c.connect();
        FakeServer.Peer p = server.accept();
        p.expect("HELLO alice v=1 token=old");
        c.updateToken("new");
        barrier(c);
        p.send(WELCOME_0);
        connected.get(5, TimeUnit.SECONDS);
        p.expect("AUTH new"); // else the session ends at the old token's exp
    }

    @Test
    void aBye401AfterTheServerAcceptedTheFreshTokenStopsTheClient() throws Exception {
        SwitchboardClient c = client(builder("alice").token("old"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 token=old", WELCOME_0);
        c.updateToken("new");
        p.expect("AUTH new");
        p.send("OK AUTH");
        barrier(c);
        p.send("BYE 401 token expired"); // the new token's own expiry: it would be refused again
        events.expect("bye 401 token expired");
        expectDisconnected(-1);
        assertEquals(List.of(), time.pendingDelaysMs(), "no reconnect with the expired token");
    }

    @Test
    void shouldTakeATokenAfterCloseWithoutThrowing() throws Exception {
        SwitchboardClient c = SwitchboardClient.builder().port(server.port()).clientId("alice").listener(events)
                .build(); // its own event loop group, shut down by close()
        c.close();
        assertTrue(c.eventLoop().isTerminated());
        c.updateToken("later"); // no connection to renew: nothing sent, nothing thrown
    }

    @Test
    void shouldReconnectWithATokenGivenSinceTheRefusedOneAfterBye401() throws Exception {
        SwitchboardClient c = client(builder("alice").token("old"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1 token=old", WELCOME_0);
        c.updateToken("new");
        p.expect("AUTH new");
        p.send("BYE 401 token expired"); // the old token's expiry came first
        events.expect("bye 401 token expired");
        expectDisconnected(1_000); // not stopped: the refused token is not the one it has now
        time.advanceMs(1_000);
        server.acceptHello("HELLO alice v=1 token=new resume=0", "WELCOME alice v=1 hb=0 seq=0");
        events.expect("connected seq=0 hb=0");
    }

    @Test
    void shouldKeepAConnectCalledFromOnByeWithANewTokenForTheNextWelcome() throws Exception {
        SwitchboardClient[] self = new SwitchboardClient[1];
        CompletableFuture<CompletableFuture<Welcome>> fromOnBye = new CompletableFuture<>();
        SwitchboardListener renewing = new SwitchboardListener() {
            @Override
            public void onMessage(long seq, byte[] payload) {
                events.onMessage(seq, payload);
            }

            @Override
            public void onConnected(Welcome w) {
                events.onConnected(w);
            }

            @Override
            public void onBye(int code, String text) {
                events.onBye(code, text);
                self[0].updateToken("new"); // as SwitchboardListener.onBye suggests after 401
                fromOnBye.complete(self[0].connect());
            }

            @Override
            public void onDisconnected(Throwable cause, long reconnectDelayMs) {
                events.onDisconnected(cause, reconnectDelayMs);
            }
        };
        SwitchboardClient c = client(builder("alice").token("old").listener(renewing));
        self[0] = c;
        FakeServer.Peer p = connect(c, "HELLO alice v=1 token=old", WELCOME_0);
        p.send("BYE 401 token expired");
        events.expect("bye 401 token expired");
        CompletableFuture<Welcome> again = fromOnBye.get(5, TimeUnit.SECONDS);
        assertFalse(again.isDone(), "not the ending connection's WELCOME");
        expectDisconnected(1_000);
        time.advanceMs(1_000);
        server.acceptHello("HELLO alice v=1 token=new resume=0", "WELCOME alice v=1 hb=0 seq=0");
        assertEquals(0, again.get(5, TimeUnit.SECONDS).seq());
    }

    @Test
    void connectCalledTwiceFromOnByeBeforeAnyWelcomeWithoutReconnectWaitsForTheNextWelcomeBothTimes() throws Exception {
        SwitchboardClient[] self = new SwitchboardClient[1];
        List<CompletableFuture<Welcome>> fromOnBye = new java.util.concurrent.CopyOnWriteArrayList<>();
        SwitchboardListener renewing = new SwitchboardListener() {
            @Override
            public void onBye(int code, String text) {
                events.onBye(code, text);
                self[0].updateToken("new");
                fromOnBye.add(self[0].connect());
                fromOnBye.add(self[0].connect()); // twice: neither may be left pending for ever
            }

            @Override
            public void onDisconnected(Throwable cause, long reconnectDelayMs) {
                events.onDisconnected(cause, reconnectDelayMs);
            }
        };
        SwitchboardClient c = client(builder("alice").token("old").reconnect(false).listener(renewing));
        self[0] = c;
        CompletableFuture<Welcome> first = c.connect();
        FakeServer.Peer p = server.accept();
        p.expect("HELLO alice v=1 token=old");
        p.send("BYE 401 token expired"); // before any WELCOME
        events.expect("bye 401 token expired");
        String disconnected = events.next();
        assertTrue(disconnected.startsWith("disconnected ") && !disconnected.endsWith(" -1"),
                "connect() asked for another attempt although reconnect(false): " + disconnected);
        time.advanceMs(Long.parseLong(disconnected.substring(disconnected.lastIndexOf(' ') + 1)));
        server.acceptHello("HELLO alice v=1 token=new", WELCOME_0);
        assertEquals(0, first.get(5, TimeUnit.SECONDS).seq(), "the first connect() has its WELCOME too");
        assertEquals(2, fromOnBye.size());
        for (CompletableFuture<Welcome> f : fromOnBye) {
            assertEquals(0, f.get(5, TimeUnit.SECONDS).seq());
        }
    }

    private static java.nio.file.Path testCertificate() throws Exception {
        return java.nio.file.Path.of(SwitchboardClientTest.class.getResource("/tls/cert.pem").toURI());
    }

    /** The client's attempt over TLS to a server on {@code address} fails: the reason, from the client's side. */
    private Throwable tlsRefusedBy(String address, SwitchboardClient.Builder b) throws Exception {
        try (FakeServer tls = FakeServer.tls(java.net.InetAddress.getByName(address))) {
            SwitchboardClient c = client(b.host(address).port(tls.port()).reconnect(false));
            CompletableFuture<Welcome> connected = c.connect();
            FakeServer.Peer p = tls.accept();
            assertThrows(java.io.IOException.class, () -> p.expect("HELLO alice v=1"), "no HELLO gets through");
            Throwable t = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> connected.get(5, TimeUnit.SECONDS)).getCause();
            assertFalse(c.isConnected());
            return t;
        }
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void overTlsTheClientSpeaksSwbToAServerItsPemFileTrusts() throws Exception {
        try (FakeServer tls = FakeServer.tls(java.net.InetAddress.getByName("127.0.0.1"))) {
            SwitchboardClient c = client(builder("alice").port(tls.port()).tlsTrusting(testCertificate()));
            CompletableFuture<Welcome> connected = c.connect();
            FakeServer.Peer p = tls.acceptHello("HELLO alice v=1", WELCOME_0);
            assertEquals(0, connected.get(5, TimeUnit.SECONDS).seq());
            events.expect("connected seq=0 hb=0");
            p.sendRaw(msg(1, "secret"));
            events.expect("message 1 secret");
        }
    }

    @Test
    void overTlsAServerNotTrustedOrNotNamedByItsCertificateIsRefused() throws Exception {
        Throwable untrusted = tlsRefusedBy("127.0.0.1", builder("alice").tls()); // the JVM's CAs: self-signed is not
        assertTrue(causedBy(untrusted, javax.net.ssl.SSLHandshakeException.class), untrusted.toString());
        // Trusted, but the certificate names localhost and 127.0.0.1, not the address connected to.
        Throwable misnamed = tlsRefusedBy("127.0.0.2", builder("alice").tlsTrusting(testCertificate()));
        assertTrue(causedBy(misnamed, java.security.cert.CertificateException.class), misnamed.toString());
        IllegalArgumentException noFile = assertThrows(IllegalArgumentException.class,
                () -> builder("alice").tlsTrusting(java.nio.file.Path.of("/nonexistent.pem")).build());
        assertTrue(noFile.getMessage().contains("/nonexistent.pem"), noFile.getMessage());
    }

    @Test
    void anAnswerThatComesWhileTheClientClosesCompletesItsSend() throws Exception {
        // The server answered before it read the BYE: thrown away, the send failed as unanswered, and an
        // application sending it again made a duplicate.
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        CompletableFuture<Void> sent = c.send("s1", "x".getBytes(StandardCharsets.UTF_8));
        p.expect("SEND s1 1");
        p.readBytes(1);
        p.expect("");
        CompletableFuture<Void> closed = c.closeAsync();
        p.expect("BYE");
        p.send("SENT s1");
        p.close();
        sent.get(5, TimeUnit.SECONDS);
        closed.get(5, TimeUnit.SECONDS);
    }

    @Test
    void shouldFailASendOverMaxSendBytesAtOnceAndKeepTheConnection() throws Exception {
        SwitchboardClient c = client(builder("alice").maxSendBytes(10));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        CompletableFuture<Void> pending = c.send("s1", "small".getBytes(StandardCharsets.UTF_8));
        p.expect("SEND s1 5");
        assertEquals("small", new String(p.readBytes(5), StandardCharsets.UTF_8));
        p.expect("");
        SwitchboardException e = failure(c.send("s2", new byte[11]), SwitchboardException.class);
        assertEquals(413, e.code(), "refused here: the server would end the connection and s1 with it");
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        c.eventLoop().execute(() -> {
            try {
                held.await(5, TimeUnit.SECONDS); // the loop busy while the refusal's dependent is attached
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        CompletableFuture<Thread> completedOn = c.send("s3", new byte[11]).handle((v, t) -> Thread.currentThread());
        held.countDown();
        assertTrue(c.eventLoop().inEventLoop(completedOn.get(5, TimeUnit.SECONDS)), "completed on the loop");
        p.send("SENT s1");
        pending.get(5, TimeUnit.SECONDS);
        assertTrue(c.isConnected());
    }

    @Test
    void shouldFailASendBeyondMaxPendingSendsAtOnce() throws Exception {
        SwitchboardClient c = client(builder("alice").maxPendingSends(2));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        CompletableFuture<Void> one = c.send("s1", new byte[1]);
        CompletableFuture<Void> two = c.send("s2", new byte[1]);
        SwitchboardException e = failure(c.send("s3", new byte[1]), SwitchboardException.class);
        assertEquals(429, e.code(), "two wait for their answers: a stalled connection does not take a third");
        p.expect("SEND s1 1");
        p.readBytes(1);
        p.expect("");
        p.expect("SEND s2 1");
        p.readBytes(1);
        p.expect("");
        p.send("SENT s1");
        one.get(5, TimeUnit.SECONDS);
        CompletableFuture<Void> three = c.send("s3", new byte[1]); // one answered: room again
        p.expect("SEND s3 1");
        p.readBytes(1);
        p.expect("");
        p.send("SENT s2");
        p.send("SENT s3");
        two.get(5, TimeUnit.SECONDS);
        three.get(5, TimeUnit.SECONDS);
    }

    @Test
    void shouldNotReconnectWhenReconnectIsDisabled() throws Exception {
        SwitchboardClient c = client(builder("alice").reconnect(false));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.close();
        expectDisconnected(-1);
        assertEquals(List.of(), time.pendingDelaysMs());
    }

    @Test
    void shouldFailConnectWhenTheServerIsDownAndReconnectIsDisabled() throws Exception {
        SwitchboardClient c = client(builder("alice").port(refusingPort()).reconnect(false));
        failure(c.connect(), ConnectException.class);
        expectDisconnected(-1);
    }

    @Test
    void shouldKeepTryingWhileTheServerIsDownUntilClosed() throws Exception {
        SwitchboardClient c = client(builder("alice").port(refusingPort()));
        CompletableFuture<Welcome> connected = c.connect();
        expectDisconnected(1_000);
        assertInstanceOf(ConnectException.class, events.lastCause);
        time.advanceMs(1_000);
        expectDisconnected(2_000);
        assertFalse(connected.isDone());

        c.closeAsync().get(5, TimeUnit.SECONDS);
        assertEquals("client closed", failure(connected, SwitchboardException.class).getMessage());
        assertEquals(List.of(), time.pendingDelaysMs(), "the pending reconnect was cancelled");
    }

    // ------------------------------------------------------------------------------------------------- topics

    @Test
    void shouldResubscribeTopicsAfterReconnect() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        CompletableFuture<Void> news = c.subscribe("news");
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.expect("SUB news");
        assertFalse(news.isDone());
        p.send("OK SUB news");
        news.get(5, TimeUnit.SECONDS);

        CompletableFuture<Void> sports = c.subscribe("sports");
        p.expect("SUB sports");
        p.send("OK SUB sports");
        sports.get(5, TimeUnit.SECONDS);
        CompletableFuture<Void> unsub = c.unsubscribe("sports");
        p.expect("UNSUB sports");
        p.send("OK UNSUB sports");
        unsub.get(5, TimeUnit.SECONDS);

        p.close();
        expectDisconnected(1_000);
        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        p2.expect("SUB news");
        p2.send("PING");
        p2.expect("PONG"); // and not SUB sports
    }

    @Test
    void aSubscribeFromAnUnsubscribesCompletionAsTheConnectionEndsLeavesTheClientReconnecting() throws Exception {
        // The UNSUB's future completes as its connection ends, and a dependent that subscribes again changed the
        // map being walked: the exception left the client connected in name, never reconnecting.
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connectSubscribedTo(c, "news");
        CompletableFuture<Void> again = new CompletableFuture<>();
        c.unsubscribe("news").thenRun(() -> c.subscribe("news").whenComplete((v, e) -> again.complete(null)));
        p.expect("UNSUB news");
        p.close(); // before its OK
        expectDisconnected(1_000);
        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        p2.expect("SUB news"); // subscribed again, and no UNSUB after it
        p2.send("OK SUB news");
        again.get(5, TimeUnit.SECONDS);
        p2.send("PING");
        p2.expect("PONG");
    }

    @Test
    void shouldUnsubscribeOnTheNextConnectionWhatWasDroppedWhileDisconnected() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connectSubscribedTo(c, "news");

        p.close();
        expectDisconnected(1_000);
        c.unsubscribe("news").get(5, TimeUnit.SECONDS); // done for the caller at once
        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        p2.expect("UNSUB news"); // the server may have kept the session's subscription
        p2.send("OK UNSUB news");
        p2.send("PING");
        p2.expect("PONG"); // and no SUB news

        CompletableFuture<Void> again = c.subscribe("news");
        p2.expect("SUB news");
        p2.send("OK SUB news");
        again.get(5, TimeUnit.SECONDS);
    }

    @Test
    void shouldSendTheUnsubscribeAgainWhenTheConnectionCarryingItEndsBeforeItsOk() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        c.subscribe("news");
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.expect("SUB news");
        p.send("OK SUB news");
        p.close();
        expectDisconnected(1_000);
        c.unsubscribe("news").get(5, TimeUnit.SECONDS);
        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        p2.expect("UNSUB news");
        assertTrue(events.next().startsWith("connected "));
        p2.close(); // before the OK
        expectDisconnected(2_000);
        time.advanceMs(2_000);
        FakeServer.Peer p3 = server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        p3.expect("UNSUB news");
        p3.send("OK UNSUB news");
        p3.send("PING");
        p3.expect("PONG");
    }

    @Test
    void shouldSendANewUnsubscribeAfterASubscribeThatUndidTheOneInFlight() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        c.subscribe("news");
        p.expect("SUB news");
        p.send("OK SUB news");
        CompletableFuture<Void> first = c.unsubscribe("news");
        p.expect("UNSUB news");
        c.subscribe("news");
        p.expect("SUB news");
        CompletableFuture<Void> second = c.unsubscribe("news");
        p.expect("UNSUB news"); // its own, not a wait on the first
        p.send("OK UNSUB news");
        p.send("OK SUB news");
        p.send("OK UNSUB news");
        first.get(5, TimeUnit.SECONDS);
        second.get(5, TimeUnit.SECONDS);
    }

    @Test
    void shouldFailARefusedSubscriptionAndNotRetryIt() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        CompletableFuture<Void> secret = c.subscribe("secret");
        p.expect("SUB secret");
        p.send("ERR 403 SUB secret not allowed");

        assertEquals(403, failure(secret, SwitchboardException.class).code());
        events.expect("error 403 SUB secret not allowed");
        p.close();
        expectDisconnected(1_000);
        time.advanceMs(1_000);
        FakeServer.Peer p2 = server.acceptHello("HELLO alice v=1 resume=0", WELCOME_0);
        p2.send("PING");
        p2.expect("PONG");
    }

    @Test
    void shouldReportOtherErrorsAndStayConnected() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.send("ERR 429 too fast");
        events.expect("error 429 too fast");
        p.send("PING");
        p.expect("PONG");
        assertTrue(c.isConnected());
    }

    // -------------------------------------------------------------------------------------------------- sends

    @Test
    void shouldCompleteSendOnSentAndFailItOnNack() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);

        CompletableFuture<Void> ok = c.send("s-1", "hi\n".getBytes(StandardCharsets.UTF_8));
        p.expect("SEND s-1 3");
        assertEquals("hi\n", new String(p.readBytes(3), StandardCharsets.UTF_8));
        p.expect("");
        assertFalse(ok.isDone());
        p.send("SENT s-1");
        ok.get(5, TimeUnit.SECONDS);

        CompletableFuture<Void> refused = c.send("s-2", new byte[0]);
        p.expect("SEND s-2 0");
        p.expect("");
        p.send("NACK s-2 503 sink unavailable");
        SwitchboardException e = failure(refused, SwitchboardException.class);
        assertEquals(503, e.code());
        assertTrue(e.fromServer());
    }

    @Test
    void shouldFailPendingSendsWhenTheConnectionIsLost() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        CompletableFuture<Void> pending = c.send("s-1", new byte[] {1});
        p.expect("SEND s-1 1");
        p.close();

        SwitchboardException e = failure(pending, SwitchboardException.class);
        assertEquals(SwitchboardException.LOCAL, e.code());
        expectDisconnected(1_000);
        assertEquals("not connected", failure(c.send("s-2", new byte[0]), SwitchboardException.class).getMessage());
    }

    @Test
    void shouldRefuseASecondSendWithAPendingId() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        CompletableFuture<Void> first = c.send("dup", new byte[0]);
        failure(c.send("dup", new byte[0]), IllegalStateException.class);
        p.expect("SEND dup 0");
        p.expect("");
        p.send("SENT dup");
        first.get(5, TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------------------------------------------ closing

    @Test
    void shouldAckAndSayByeOnCloseAndLetTheServerCloseFirst() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.sendMsg(1, "a");
        events.expect("message 1 a");
        barrier(c);

        CompletableFuture<Void> closed = c.closeAsync();
        p.expect("ACK 1");
        p.expect("BYE");
        assertFalse(closed.isDone(), "waits for the server to close");
        p.close();
        closed.get(5, TimeUnit.SECONDS);
        events.expect("disconnected null -1");
        assertFalse(c.isConnected());
        assertEquals("client closed", failure(c.connect(), SwitchboardException.class).getMessage());
        assertEquals("client closed", failure(c.subscribe("news"), SwitchboardException.class).getMessage());
    }

    @Test
    void shouldCloseItselfWhenTheServerLingersAfterBye() throws Exception {
        SwitchboardClient c = client(builder("alice"));
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        CompletableFuture<Void> closed = c.closeAsync();
        p.expect("BYE");
        barrier(c);
        time.advanceMs(SwitchboardClient.CLOSE_LINGER_MS);
        closed.get(5, TimeUnit.SECONDS);
        assertTrue(p.closedByClient());
    }

    @Test
    void shouldShutDownItsOwnEventLoopOnClose() throws Exception {
        SwitchboardClient c = SwitchboardClient.builder().port(server.port()).clientId("alice")
                .listener(events).nanoClock(time).scheduler(time).build();
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        c.closeAsync();
        p.expect("BYE");
        p.close();
        c.close();
        assertTrue(c.eventLoop().isTerminated());
    }

    // ---------------------------------------------------------------------------------------- event loops

    @Test
    void shouldShareOneEventLoopGroupAcrossClients() throws Exception {
        SwitchboardClient alice = client(builder("alice"));
        SwitchboardClient bob = client(builder("bob"));
        assertTrue(inGroup(alice) && inGroup(bob));
        alice.connect();
        bob.connect();
        Map<String, FakeServer.Peer> peers = new HashMap<>();
        for (int i = 0; i < 2; i++) {
            FakeServer.Peer p = server.accept();
            String id = p.readLine().split(" ")[1];
            p.send("WELCOME " + id + " v=1 hb=0 seq=0");
            peers.put(id, p);
        }
        events.expect("connected seq=0 hb=0");
        events.expect("connected seq=0 hb=0");
        peers.get("alice").sendMsg(1, "for alice");
        events.expect("message 1 for alice");
        peers.get("bob").sendMsg(1, "for bob");
        events.expect("message 1 for bob");
    }

    @Test
    void shouldRunOnAGivenNioGroup() throws Exception {
        EventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            SwitchboardClient c = client(builder("alice").eventLoopGroup(nio));
            FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
            p.sendMsg(1, "over nio");
            events.expect("message 1 over nio");
            c.closeAsync();
            p.expect("ACK 1");
            p.expect("BYE");
            p.close();
            c.closeAsync().get(5, TimeUnit.SECONDS);
        } finally {
            nio.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void tcpKeepaliveIsTunedAsAskedOnEpoll() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(SwitchboardClient.nativeTransport(),
                "epoll's native library for this platform is on the test class path (linux-x86_64 only)");
        SwitchboardClient onEpoll = client(builder("alice").tcpKeepalive(45, 15, 4));
        connect(onEpoll, "HELLO alice v=1", WELCOME_0);
        io.netty.channel.Channel ch = onEpoll.channel();
        assertEquals(true, ch.config().getOption(io.netty.channel.ChannelOption.SO_KEEPALIVE));
        assertEquals(45, ch.config().getOption(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPIDLE));
        assertEquals(15, ch.config().getOption(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPINTVL));
        assertEquals(4, ch.config().getOption(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPCNT));
    }

    @Test
    void tcpKeepaliveIsTunedAsAskedOnNio() throws Exception {
        EventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            SwitchboardClient onNio = client(builder("alice").eventLoopGroup(nio).tcpKeepalive(50, 10, 3));
            FakeServer.Peer q = connect(onNio, "HELLO alice v=1", WELCOME_0);
            io.netty.channel.ChannelConfig config = onNio.channel().config();
            assertEquals(50, config.getOption(io.netty.channel.socket.nio.NioChannelOption.of(
                    jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE)));
            assertEquals(10, config.getOption(io.netty.channel.socket.nio.NioChannelOption.of(
                    jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL)));
            assertEquals(3, config.getOption(io.netty.channel.socket.nio.NioChannelOption.of(
                    jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT)));
            onNio.closeAsync();
            q.expect("BYE");
            q.close();
            onNio.closeAsync().get(5, TimeUnit.SECONDS);
        } finally {
            nio.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void tcpKeepaliveSettingsAreCheckedWhenBuilt() {
        assertThrows(IllegalArgumentException.class, () -> builder("alice").tcpKeepalive(0, 10, 3).build());
        assertThrows(IllegalArgumentException.class, () -> builder("alice").tcpKeepalive(60, 10, 128).build());
        builder("alice").tcpKeepalive(0, 0, 0).build().close();
    }

    @Test
    void shouldRejectAnEventLoopGroupThatCannotCarrySockets() {
        EventLoopGroup local = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        try {
            assertThrows(IllegalArgumentException.class, () -> builder("alice").eventLoopGroup(local).build());
        } finally {
            local.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    // ------------------------------------------------------------------------------------------ validation

    @Test
    void shouldRejectInvalidSettings() {
        List<SwitchboardClient.Builder> invalid = List.of(
                builder(null),
                builder(""),
                builder("has space"),
                builder("x".repeat(129)),
                builder("alice").token("two words"),
                builder("alice").token(""),
                builder("alice").token("x".repeat(1_000)),
                builder("alice").port(0),
                builder("alice").heartbeatSeconds(-2),
                builder("alice").ackPolicy(33, 1_000),
                builder("alice").ackPolicy(32, 1_001),
                builder("alice").reconnectBackoffMs(0, 10),
                builder("alice").reconnectBackoffMs(100, 10),
                builder("alice").connectTimeoutMs(0),
                builder("alice").maxPayloadBytes(SwitchboardClient.MAX_PAYLOAD_BYTES + 1),
                builder("alice").resumeFrom(-2));
        for (SwitchboardClient.Builder b : invalid) {
            assertThrows(IllegalArgumentException.class, b::build);
        }
        SwitchboardClient c = client(builder("a.b_c:d@e-f").token("eyJ.x-y_z"));
        assertThrows(IllegalArgumentException.class, () -> c.send("bad id", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> c.subscribe("bad/topic"));
        assertThrows(IllegalArgumentException.class, () -> c.updateToken("x y"));
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private SwitchboardClient.Builder builder(String id) {
        return SwitchboardClient.builder()
                .port(server.port())
                .clientId(id)
                .eventLoopGroup(group)
                .listener(events)
                .nanoClock(time)
                .scheduler(time)
                .random(new FixedRandom(1.0));
    }

    private SwitchboardClient client(SwitchboardClient.Builder b) {
        SwitchboardClient c = b.build();
        clients.add(c);
        return c;
    }

    /** Connects as alice (WELCOME seq=0), then sends messages 1 to {@code n} and sees each delivered. */
    private FakeServer.Peer connectAndDeliver(SwitchboardClient c, int n) throws Exception {
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.sendRaw(burst(1, n));
        for (int i = 1; i <= n; i++) {
            events.expect("message " + i + " m" + i);
        }
        return p;
    }

    /** Connects and completes the handshake; returns the server side with the "connected" event consumed. */
    private FakeServer.Peer connect(SwitchboardClient c, String expectedHello, String welcome) throws Exception {
        CompletableFuture<Welcome> connected = c.connect();
        FakeServer.Peer p = server.acceptHello(expectedHello, welcome);
        connected.get(5, TimeUnit.SECONDS);
        events.next();
        barrier(c);
        return p;
    }

    /** Waits until the client's event loop has finished what it was doing (including the current read batch). */
    private static void barrier(SwitchboardClient c) throws Exception {
        c.eventLoop().submit(() -> { }).get(5, TimeUnit.SECONDS);
    }

    /** Subscribes {@code c} to {@code topic}, connects it as alice, and has the server confirm the subscription. */
    private FakeServer.Peer connectSubscribedTo(SwitchboardClient c, String topic) throws Exception {
        CompletableFuture<Void> subscribed = c.subscribe(topic);
        FakeServer.Peer p = connect(c, "HELLO alice v=1", WELCOME_0);
        p.expect("SUB " + topic);
        p.send("OK SUB " + topic);
        subscribed.get(5, TimeUnit.SECONDS);
        return p;
    }

    private void expectDisconnected(long reconnectDelayMs) throws InterruptedException {
        String e = events.next();
        assertTrue(e.startsWith("disconnected ") && e.endsWith(" " + reconnectDelayMs), e);
    }

    private static String burst(int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i <= to; i++) {
            sb.append(msg(i, "m" + i));
        }
        return sb.toString();
    }

    private static <T extends Throwable> T failure(CompletableFuture<?> f, Class<T> type) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        return assertInstanceOf(type, e.getCause());
    }

    private static boolean inGroup(SwitchboardClient c) {
        for (EventExecutor e : group) {
            if (e == c.eventLoop()) {
                return true;
            }
        }
        return false;
    }

    /**
     * A loopback port where nothing listens, held (bound, not listening) until the test ends: connects to it are
     * refused, and no other socket can take it meanwhile (a port given up could be a reconnect's own source port:
     * a self-connect, which succeeds).
     */
    private int refusingPort() throws IOException {
        Socket s = new Socket();
        held.add(s);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return s.getLocalPort();
    }
}
