package io.switchboard.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.clock.ManualClock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoopTest {
    private final ManualClock clock = new ManualClock();
    private final EmbeddedChannel channel = new EmbeddedChannel();

    /** A member with a deadline, as a connection is. */
    static final class Conn implements Loop.Member, Loop.Timed {
        final String name;
        long deadlineSec;
        int memberIndex = -1;
        int slot = -1;
        int index = -1;
        final List<Long> fired = new ArrayList<>();

        Conn(String name) {
            this.name = name;
        }

        @Override public int memberIndex() { return memberIndex; }
        @Override public void memberIndex(int i) { memberIndex = i; }
        @Override public void onDeadline(long nowSec) { fired.add(nowSec); }
        @Override public long deadlineSec() { return deadlineSec; }
        @Override public int wheelSlot() { return slot; }
        @Override public int wheelIndex() { return index; }
        @Override public void wheelPosition(int s, int i) { slot = s; index = i; }
    }

    @Test
    void shouldKeepMembersInAnArrayWithConstantTimeRemoval() {
        Loop<Conn> loop = new Loop<>(0, channel.eventLoop(), clock);
        List<Conn> all = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            Conn c = new Conn("c" + i);
            all.add(c);
            loop.addMember(c);
        }
        for (int i = 0; i < 4990; i++) {
            loop.removeMember(all.get(i));
            assertEquals(-1, all.get(i).memberIndex());
        }
        loop.removeMember(all.get(0)); // not a member any more: no-op
        assertEquals(10, loop.memberCount());
        HashSet<String> left = new HashSet<>();
        loop.forEachMember(c -> left.add(c.name));
        for (int i = 4990; i < 5000; i++) {
            assertTrue(left.contains("c" + i));
            assertEquals(all.get(i), loop.member(all.get(i).memberIndex()), "each member knows its place");
        }
        assertEquals(10, loop.membersSnapshot().size());
    }

    @Test
    void shouldFireDeadlinesByTheInjectedMonotonicClock() {
        Loop<Conn> loop = new Loop<>(0, channel.eventLoop(), clock);
        Conn early = new Conn("early");
        Conn late = new Conn("late");
        early.deadlineSec = 2;
        late.deadlineSec = 10;
        loop.schedule(early, early.deadlineSec);
        loop.schedule(late, late.deadlineSec);
        assertEquals(2, loop.scheduledDeadlines());
        clock.advanceSec(3);
        loop.tick();
        assertEquals(3, loop.nowSec());
        assertEquals(List.of(3L), early.fired);
        assertEquals(List.of(), late.fired);
        loop.cancelDeadline(late);
        clock.advanceSec(20);
        loop.tick();
        assertEquals(List.of(), late.fired, "a cancelled deadline never fires");
        assertEquals(0, loop.scheduledDeadlines());
    }
}
