package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.clock.ManualClock;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.ClientInfo;
import io.switchboard.service.PushResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * In a cluster, another node's takeover notice can arrive before this node's own (older) claim is answered: the
 * older claim must then not complete, or two connections of one client would be open on two nodes. The directory
 * is a stub whose claims the test answers by hand, on a loop the test runs.
 */
class ClusterClaimRaceTest {
    private static final String ID = "meter-7";
    private final ManualClock clock = new ManualClock();
    private final SessionRegistry registry = new SessionRegistry(
            new SessionRegistry.Limits(8, 100, 1 << 20, 1 << 16, 3600, false, 1000), new GatewayMetrics());
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final SessionShard shard = registry.addShard(channel.eventLoop(), clock);
    private final StubDirectory directory = new StubDirectory();

    ClusterClaimRaceTest() {
        registry.useDirectory(directory);
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldNotCompleteAClaimOlderThanATakeoverNoticeThatOvertookIt() {
        Conn conn = new Conn();
        registry.hello(ID, conn);
        registry.takenOver(ID, 200); // another node's claim, epoch 200: its notice comes first
        directory.claims.get(0).claimed(100, 0, List.of()); // then this node's own answer, epoch 100
        channel.runPendingTasks();

        assertTrue(conn.superseded, "the older claim's connection is told 409");
        assertNull(registry.find(ID), "and no session of the client stays here");
        assertEquals(List.of(ID + "@100"), directory.released, "its release is fenced by its own epoch");
    }

    @Test
    void shouldNotCompleteAReconnectsClaimOlderThanANoticeThatCameWhileTheOldConnectionWasOnline() {
        Conn first = new Conn();
        registry.hello(ID, first);
        directory.claims.get(0).claimed(100, 0, List.of());
        channel.runPendingTasks();
        assertEquals(100, registry.find(ID).epoch(), "online here under epoch 100");

        Conn again = new Conn(); // the client reconnects here: its claim (epoch 200) is on its way
        registry.hello(ID, again);
        channel.runPendingTasks();
        registry.takenOver(ID, 300); // a third connection on another node claimed epoch 300: its notice comes first
        channel.runPendingTasks();
        directory.claims.get(1).claimed(200, 0, List.of());
        channel.runPendingTasks();

        assertTrue(again.superseded, "the reconnect's older claim is told 409");
        assertNull(registry.find(ID), "no session of the client stays here: the newest connection is elsewhere");
    }

    @Test
    void shouldCompleteAClaimNewerThanALateNotice() {
        Conn conn = new Conn();
        registry.hello(ID, conn);
        registry.takenOver(ID, 50); // a stale notice of an older claim elsewhere
        directory.claims.get(0).claimed(100, 0, List.of());
        channel.runPendingTasks();

        assertSame(conn.link, registry.find(ID).link());
        assertEquals(100, registry.find(ID).epoch());
    }

    @Test
    void shouldAnswer503NotNotHereToARoutedPushWhileAHelloHereIsClaimingTheClient() {
        registry.hello(ID, new Conn());
        // The claim is made in Redis (this node named as owner) but not yet answered here: no session yet. "Not
        // here" would let the sender keep the message aside, behind the stored messages the claim read.
        List<PushResult> answers = new ArrayList<>();
        registry.pushes().pushIfHere(ID, bytes("during the claim"), 60, answers::add);
        channel.runPendingTasks();
        assertEquals(List.of(PushResult.CONNECTING), answers);

        directory.claims.get(0).claimed(100, 0, List.of());
        channel.runPendingTasks();
        registry.pushes().pushIfHere(ID, bytes("after it"), 0, answers::add);
        channel.runPendingTasks();
        assertEquals(200, answers.get(1).status(), "once the session is here, the push goes to it");
    }

    @Test
    void shouldAnswerNotHereToARoutedPushForAClientNotClaimedHere() {
        List<PushResult> answers = new ArrayList<>();
        registry.pushes().pushIfHere(ID, bytes("x"), 60, answers::add);
        channel.runPendingTasks();
        assertEquals(1, answers.size());
        assertNull(answers.get(0), "not here: the sender asks the cluster again");
    }

    @Test
    void shouldLetGoOfASessionLeftTransferringWhenTheNewestHellosClaimFails() {
        EmbeddedChannel other = new EmbeddedChannel();
        SessionShard second = registry.addShard(other.eventLoop(), clock);
        try {
            registry.hello(ID, new Conn());
            directory.claims.get(0).claimed(100, 0, List.of());
            channel.runPendingTasks();
            Conn moving = new Conn(second);
            registry.hello(ID, moving);
            directory.claims.get(1).claimed(200, 0, List.of());
            other.runPendingTasks(); // its claim: the session goes TRANSFERRING and is sent to the second loop
            channel.runPendingTasks();
            Conn newest = new Conn(second);
            registry.hello(ID, newest); // a newer hello, before the move completes
            other.runPendingTasks(); // the move's completion gives way to the newest hello
            assertTrue(moving.superseded);
            assertEquals(Session.TRANSFERRING, registry.find(ID).state());

            directory.claims.get(2).failed("cluster unavailable"); // and the newest hello's claim fails
            other.runPendingTasks();
            channel.runPendingTasks();

            assertNull(registry.find(ID), "no session stays here that no connection will ever complete");
            assertEquals(List.of(ID + "@100"), directory.released, "released under its own (fenced) epoch");
        } finally {
            other.finishAndReleaseAll();
        }
    }

    @Test
    void shouldAskTheClusterOfAClientWhoseSessionEndedHereWhileTheApiWaitedForItsLoop() throws Exception {
        Conn conn = new Conn();
        registry.hello(ID, conn);
        directory.claims.get(0).claimed(100, 0, List.of());
        channel.runPendingTasks();
        Session s = registry.find(ID);
        // The connection's end is queued on the session's loop ahead of the API's questions, asked of the session
        // found before it ended.
        channel.eventLoop().execute(() -> registry.connectionClosed(s, conn.link));
        CompletableFuture<ClientInfo> info = registry.pushes().info(ID);
        CompletableFuture<Boolean> disconnected = registry.pushes().disconnect(ID, 4000, "by the test");
        channel.runPendingTasks();

        assertEquals(List.of(ID + "@100"), directory.released, "handed over to the cluster");
        assertSame(directory.known, info.get(), "what the cluster knows, not \"unknown client\"");
        assertTrue(disconnected.get(), "the cluster is asked: the client may be on another node by now");
        assertEquals(List.of(ID), directory.disconnects);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Records claims for the test to answer; records releases. */
    private static final class StubDirectory implements ClientDirectory {
        final List<Claimed> claims = new ArrayList<>();
        final List<String> released = new ArrayList<>();
        final List<String> disconnects = new ArrayList<>();
        final ClientInfo known = new ClientInfo(ID, true, 0, null, null, 7, 0, 0, 0, 0, "another-node");

        @Override
        public boolean shared() {
            return true;
        }

        @Override
        public void claim(String clientId, Claimed done) {
            claims.add(done);
        }

        @Override
        public void release(String clientId, long epoch, long lastSeq) {
            released.add(clientId + "@" + epoch);
        }

        @Override
        public CompletableFuture<ClientInfo> info(String clientId) {
            return CompletableFuture.completedFuture(known);
        }

        @Override
        public CompletableFuture<Boolean> disconnect(String clientId, int code, String reason) {
            disconnects.add(clientId);
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public void pushElsewhere(String clientId, byte[] payload, int ttlSec, Consumer<PushResult> done) {
            done.accept(PushResult.OFFLINE);
        }
    }

    /** A connection's handshake; once complete, its link to the session is a {@link FakeLink}. */
    private final class Conn implements Handshake {
        final FakeLink link = new FakeLink();
        final SessionShard at;
        boolean superseded;

        Conn() {
            this(shard);
        }

        Conn(SessionShard at) {
            this.at = at;
        }

        @Override
        public SessionShard shard() {
            return at;
        }

        @Override
        public boolean open() {
            return !superseded;
        }

        @Override
        public void complete(Session s) {
            s.attach(link, 0, clock.nowMs());
        }

        @Override
        public void superseded() {
            superseded = true;
        }
    }
}
