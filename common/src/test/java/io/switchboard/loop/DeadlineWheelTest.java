package io.switchboard.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeadlineWheelTest {

    static final class E implements DeadlineWheel.Entry {
        final String name;
        long deadline;
        int slot = -1;
        int index = -1;

        E(String name, long deadline) {
            this.name = name;
            this.deadline = deadline;
        }

        @Override
        public long deadlineSec() {
            return deadline;
        }

        @Override
        public int wheelSlot() {
            return slot;
        }

        @Override
        public int wheelIndex() {
            return index;
        }

        @Override
        public void wheelPosition(int s, int i) {
            slot = s;
            index = i;
        }
    }

    private final List<String> fired = new ArrayList<>();

    @Test
    void shouldFireOnlyEntriesWhoseDeadlinePassed() {
        DeadlineWheel<E> w = new DeadlineWheel<>(16, 100);
        w.schedule(new E("a", 102), 102);
        w.schedule(new E("b", 105), 105);
        w.poll(101, (e, now) -> fired.add(e.name), 100);
        assertEquals(List.of(), fired);
        w.poll(103, (e, now) -> fired.add(e.name), 100);
        assertEquals(List.of("a"), fired);
        w.poll(105, (e, now) -> fired.add(e.name), 100);
        assertEquals(List.of("a", "b"), fired);
        assertEquals(0, w.size());
    }

    @Test
    void aSlotEmptiedAfterACrowdLetsItsLargeArrayGo() {
        DeadlineWheel<E> w = new DeadlineWheel<>(16, 0);
        for (int i = 0; i < 10_000; i++) { // a reconnect storm: every deadline in one second
            w.schedule(new E("e" + i, 5), 5);
        }
        assertTrue(w.capacity() >= 10_000);
        assertEquals(10_000, w.poll(5, (x, now) -> { }, 20_000));
        assertTrue(w.capacity() <= 16 * DeadlineWheel.KEEP_EMPTY_SLOT_ENTRIES, "kept " + w.capacity());
    }

    @Test
    void shouldRescheduleEntryWhoseDeadlineMovedLater() {
        DeadlineWheel<E> w = new DeadlineWheel<>(16, 0);
        E e = new E("a", 3);
        w.schedule(e, 3);
        e.deadline = 8; // activity pushed the deadline forward without touching the wheel
        w.poll(5, (x, now) -> fired.add(x.name), 100);
        assertEquals(List.of(), fired);
        assertEquals(1, w.size());
        w.poll(8, (x, now) -> fired.add(x.name), 100);
        assertEquals(List.of("a"), fired);
    }

    @Test
    void shouldHandleDeadlinesBeyondTheWheelSpan() {
        DeadlineWheel<E> w = new DeadlineWheel<>(8, 0);
        E e = new E("far", 50);
        w.schedule(e, 50);
        for (long t = 1; t < 50; t++) {
            w.poll(t, (x, now) -> fired.add(x.name), 100);
        }
        assertEquals(List.of(), fired);
        w.poll(50, (x, now) -> fired.add(x.name), 100);
        assertEquals(List.of("far"), fired);
    }

    @Test
    void shouldCancelInConstantTimeKeepingOthers() {
        DeadlineWheel<E> w = new DeadlineWheel<>(16, 0);
        E a = new E("a", 2);
        E b = new E("b", 2);
        E c = new E("c", 2);
        w.schedule(a, 2);
        w.schedule(b, 2);
        w.schedule(c, 2);
        w.cancel(a);
        w.cancel(a); // harmless twice
        assertEquals(-1, a.slot);
        w.poll(2, (x, now) -> fired.add(x.name), 100);
        assertEquals(2, fired.size());
        assertTrue(fired.containsAll(List.of("b", "c")));
    }

    @Test
    void shouldBoundExpiriesPerPollAndContinueNextTime() {
        DeadlineWheel<E> w = new DeadlineWheel<>(16, 0);
        for (int i = 0; i < 10; i++) {
            w.schedule(new E("e" + i, 1), 1);
        }
        assertEquals(4, w.poll(1, (x, now) -> fired.add(x.name), 4));
        assertEquals(4, w.poll(1, (x, now) -> fired.add(x.name), 4));
        assertEquals(2, w.poll(1, (x, now) -> fired.add(x.name), 4));
        assertEquals(10, fired.size());
    }

    @Test
    void shouldAllowHandlerToRescheduleTheFiredEntry() {
        DeadlineWheel<E> w = new DeadlineWheel<>(16, 0);
        E e = new E("a", 1);
        w.schedule(e, 1);
        w.poll(1, (x, now) -> {
            fired.add(x.name + now);
            x.deadline = now + 3;
            w.schedule(x, x.deadline);
        }, 100);
        w.poll(3, (x, now) -> fired.add(x.name + now), 100);
        w.poll(4, (x, now) -> fired.add(x.name + now), 100);
        assertEquals(List.of("a1", "a4"), fired);
    }
}
