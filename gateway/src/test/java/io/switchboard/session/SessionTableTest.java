package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SessionTableTest {

    private static Session session(String id) {
        return new Session(id, null, Session.OFFLINE, 0, 0);
    }

    @Test
    void shouldFindWhatWasPutAndRefuseDuplicates() {
        SessionTable t = new SessionTable();
        Session a = session("a");
        assertNull(t.putIfAbsent(a));
        assertSame(a, t.putIfAbsent(session("a")));
        assertSame(a, t.get("a"));
        assertNull(t.get("b"));
        assertEquals(1, t.size());
    }

    @Test
    void shouldRemoveOnlyTheSessionItHolds() {
        SessionTable t = new SessionTable();
        Session a = session("a");
        t.putIfAbsent(a);
        assertFalse(t.remove(session("a")));
        assertTrue(t.remove(a));
        assertNull(t.get("a"));
        assertEquals(0, t.size());
    }

    @Test
    void shouldMatchAHashMapThroughRandomInsertsAndDeletesAcrossGrowth() {
        SessionTable t = new SessionTable();
        Map<String, Session> model = new HashMap<>();
        Random r = new Random(42);
        for (int op = 0; op < 200_000; op++) {
            String id = "c" + r.nextInt(5_000);
            if (r.nextInt(3) == 0) {
                Session held = model.remove(id);
                assertEquals(held != null, held != null && t.remove(held), "remove " + id);
            } else {
                Session s = t.computeIfAbsent(id, SessionTableTest::session);
                Session expected = model.computeIfAbsent(id, k -> s);
                assertSame(expected, s, "computeIfAbsent " + id);
            }
            if (op % 10_000 == 0) {
                for (Map.Entry<String, Session> e : model.entrySet()) {
                    assertSame(e.getValue(), t.get(e.getKey()));
                }
            }
        }
        assertEquals(model.size(), t.size());
        for (Map.Entry<String, Session> e : model.entrySet()) {
            assertSame(e.getValue(), t.get(e.getKey()));
        }
    }

    @Test
    void shouldKeepEveryEntryUnderConcurrentUse() throws Exception {
        SessionTable t = new SessionTable();
        int threads = 4;
        int perThread = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            int worker = w;
            futures.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < perThread; i++) {
                    Session s = session("w" + worker + "-" + i);
                    assertNull(t.putIfAbsent(s));
                    if (i % 2 == 0) {
                        assertTrue(t.remove(s));
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(threads * perThread / 2, t.size());
        for (int w = 0; w < threads; w++) {
            for (int i = 0; i < perThread; i++) {
                assertEquals(i % 2 == 1, t.get("w" + w + "-" + i) != null);
            }
        }
    }
}
