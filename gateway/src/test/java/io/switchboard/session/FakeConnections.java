package io.switchboard.session;

import io.switchboard.clock.Clock;

/**
 * Connects clients to a registry without a protocol adapter: the handshake attaches a {@link ClientLink} and makes
 * the session a member of its loop, as {@code SwbConnection} does. Call from the test thread that runs the loops.
 */
final class FakeConnections {
    private FakeConnections() {
    }

    /** Sends {@code HELLO clientId} as if from a connection on {@code loop}; completes when the loop runs. */
    static void connect(SessionRegistry registry, String clientId, ClientLink link, SessionShard loop, Clock clock) {
        connect(registry, clientId, link, loop, clock, 0);
    }

    /** As {@link #connect}, resuming from {@code resumeSeq} as {@code HELLO ... resume=<seq>} does. */
    static void connect(SessionRegistry registry, String clientId, ClientLink link, SessionShard loop, Clock clock,
                        long resumeSeq) {
        registry.hello(clientId, new Handshake() {
            @Override
            public SessionShard shard() {
                return loop;
            }

            @Override
            public boolean open() {
                return true;
            }

            @Override
            public void complete(Session s) {
                s.attach(link, resumeSeq, clock.nowMs());
                loop.loop().addMember(new Member(s)); // broadcasts reach a loop's members
            }

            @Override
            public void superseded() {
            }
        });
    }

    /** A connection as its loop's member list holds it; never on the deadline wheel. */
    private static final class Member implements ShardMember {
        private final Session session;
        private int memberIndex = -1;

        Member(Session session) {
            this.session = session;
        }

        @Override
        public Session session() {
            return session;
        }

        @Override
        public void drain(long retryMs) {
        }

        @Override
        public void closeNow() {
        }

        @Override
        public void onDeadline(long nowSec) {
        }

        @Override
        public int memberIndex() {
            return memberIndex;
        }

        @Override
        public void memberIndex(int index) {
            memberIndex = index;
        }

        @Override
        public long deadlineSec() {
            return 0;
        }

        @Override
        public int wheelSlot() {
            return -1;
        }

        @Override
        public int wheelIndex() {
            return -1;
        }

        @Override
        public void wheelPosition(int slot, int index) {
        }
    }
}
