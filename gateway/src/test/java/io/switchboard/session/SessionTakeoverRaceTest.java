package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.clock.ManualClock;
import io.switchboard.metrics.GatewayMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The newest {@code HELLO} of a client id always wins the takeover, however the loops' task queues interleave the
 * handshakes. Each loop is an EmbeddedChannel's, run explicitly by the test, so an interleaving is reproducible.
 */
class SessionTakeoverRaceTest {
    private static final String ID = "phone";
    private final ManualClock clock = new ManualClock();
    private final SessionRegistry registry = new SessionRegistry(
            new SessionRegistry.Limits(8, 100, 1 << 20, 1 << 16, 3600, false, 1000), new GatewayMetrics());
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final List<SessionShard> shards = new ArrayList<>();

    SessionTakeoverRaceTest() {
        for (int i = 0; i < 3; i++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            channels.add(ch);
            shards.add(registry.addShard(ch.eventLoop(), clock));
        }
    }

    @AfterEach
    void tearDown() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    @Test
    void shouldNotLetAnOlderHelloRetryingAfterTheSessionDiedOvertakeANewerOne() {
        Conn holder = hello(1);
        runAll();
        Conn older = hello(0); // its transfer waits on loop 1, the session's
        registry.connectionClosed(registry.find(ID), holder); // the holder leaves: the session dies
        channels.get(1).runPendingTasks(); // the transfer finds it dead and retries from loop 0, later
        Conn newer = hello(2); // a new session at once
        runAll();

        assertSame(newer, registry.find(ID).link(), "the newest hello holds the session");
        assertEquals(0, newer.closedCode, "and was not taken over by an older one");
        assertTrue(older.superseded);
    }

    @Test
    void shouldLetTheNewestHelloWinInEveryInterleaving() {
        for (int seed = 0; seed < 200; seed++) {
            Random random = new Random(seed);
            List<Conn> conns = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                conns.add(hello(random.nextInt(3)));
                // After the last hello only the loops run: the newest connection must not leave.
                int r = i == 29 ? 5 : random.nextInt(6);
                if (r < 3) {
                    channels.get(r).runPendingTasks();
                } else if (r == 3) {
                    // The connection that holds the session now leaves (it may die, with nothing stored).
                    Session s = registry.find(ID);
                    if (s != null && s.link() instanceof Conn c) {
                        registry.connectionClosed(s, c);
                        c.closedCode = -1;
                    }
                } else if (r == 4 && conns.size() > 1) {
                    conns.get(random.nextInt(conns.size() - 1)).open = false; // gave up during its handshake
                }
            }
            runAll();
            Conn newest = conns.get(conns.size() - 1);
            assertSame(newest, registry.find(ID).link(), "seed " + seed);
            assertEquals(0, newest.closedCode, "seed " + seed);
            for (Conn c : conns) {
                assertTrue(c == newest || c.superseded || c.closedCode != 0 || !c.open,
                        "seed " + seed + ": every older hello was superseded, taken over or gave up");
            }
            registry.connectionClosed(registry.find(ID), newest);
            runAll();
        }
    }

    private Conn hello(int loop) {
        Conn c = new Conn(shards.get(loop));
        registry.hello(ID, c);
        return c;
    }

    private void runAll() {
        for (int round = 0; round < 20; round++) {
            for (EmbeddedChannel ch : channels) {
                ch.runPendingTasks();
            }
        }
    }

    /** A connection on one loop: its handshake and, once complete, its link to the session. */
    private final class Conn implements Handshake, ClientLink {
        private final SessionShard shard;
        boolean open = true;
        boolean superseded;
        /** 409 once taken over; -1 when it left by itself. */
        int closedCode;

        Conn(SessionShard shard) {
            this.shard = shard;
        }

        @Override
        public SessionShard shard() {
            return shard;
        }

        @Override
        public boolean open() {
            return open && closedCode == 0 && !superseded;
        }

        @Override
        public void complete(Session s) {
            s.attach(this, 0, clock.nowMs());
        }

        @Override
        public void superseded() {
            superseded = true;
        }

        @Override
        public void writeMessage(Message m) {
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public void close(int code, String text, long retryMs) {
            closedCode = code;
        }

        @Override
        public String protocol() {
            return "test";
        }

        @Override
        public String remoteAddress() {
            return "test";
        }
    }
}
