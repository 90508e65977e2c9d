package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The promise of a 200 for a stored push, against a real process killed with SIGKILL in the middle of a stream of
 * pushes (four backends at once, so group commits hold several pushes; two clients connected and acknowledging, the
 * others offline): after a restart on the same data directory every push that was answered 200 is delivered, once,
 * in order, with the seq it was answered with. Pushes cut off by the kill without an answer may or may not arrive;
 * nothing else may.
 */
@Timeout(120)
class GatewayKillProcessTest {
    private static final int PUSHERS = 4;
    private static final int CLIENTS_PER_PUSHER = 5;
    private static final long PUSH_FOR_MS = 1500;

    @TempDir
    Path dataDir;

    private record Pushed(long seq, String payload) {
    }

    /** A connected client that reads and acknowledges every message until its connection ends. */
    private static final class Reader extends Thread {
        final SwbTestClient client;
        final List<SwbTestClient.Msg> got = Collections.synchronizedList(new ArrayList<>());

        Reader(SwbTestClient client) {
            this.client = client;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    SwbTestClient.Msg m = client.readMsg();
                    got.add(m);
                    client.ack(m.seq());
                }
            } catch (IOException | AssertionError e) {
                // the server was killed
            }
        }
    }

    @Test
    void everyPushAnswered200BeforeAKillIsDeliveredOnceInOrderWithItsSeq() throws Exception {
        String[] args = {"--data-dir", dataDir.toString(), "--event-loops", "2"};
        Map<String, List<Pushed>> answered = new ConcurrentHashMap<>();
        Set<String> unanswered = ConcurrentHashMap.newKeySet();
        Map<String, Reader> online = new LinkedHashMap<>();
        ServerProcess server = ServerProcess.start("", List.of("-Xmx256m"), args);
        try {
            for (String id : List.of("k0-0", "k1-0")) {
                SwbTestClient c = SwbTestClient.connect("127.0.0.1", server.port(), null);
                c.hello(id);
                Reader r = new Reader(c);
                r.start();
                online.put(id, r);
            }
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> pushers = new ArrayList<>();
            for (int p = 0; p < PUSHERS; p++) {
                int pusher = p;
                Thread t = new Thread(() -> push(server.apiPort(), pusher, stop, answered, unanswered));
                t.start();
                pushers.add(t);
            }
            Thread.sleep(PUSH_FOR_MS);
            server.kill();
            stop.set(true);
            for (Thread t : pushers) {
                t.join(10_000);
            }
        } finally {
            server.close();
        }
        int total = answered.values().stream().mapToInt(List::size).sum();
        assertTrue(total >= 100, "enough pushes answered before the kill to mean something: " + total);

        try (ServerProcess again = ServerProcess.start("", List.of("-Xmx256m"), args)) {
            assertTrue(again.output().contains("store:"), again.output());
            for (Map.Entry<String, List<Pushed>> e : answered.entrySet()) {
                String id = e.getKey();
                Reader before = online.get(id);
                List<SwbTestClient.Msg> seen = before == null ? new ArrayList<>() : new ArrayList<>(before.got);
                long resume = seen.isEmpty() ? 0 : seen.getLast().seq();
                List<Pushed> expected = e.getValue();
                try (SwbTestClient c = SwbTestClient.connect("127.0.0.1", again.port(), null)) {
                    c.hello(id, resume > 0 ? new String[] {"resume=" + resume} : new String[0]);
                    long last = expected.getLast().seq();
                    while (seen.isEmpty() || seen.getLast().seq() < last) {
                        SwbTestClient.Msg m;
                        try {
                            m = c.readMsg();
                        } catch (SocketTimeoutException timeout) {
                            fail(id + ": nothing more after seq " + (seen.isEmpty() ? 0 : seen.getLast().seq())
                                    + ", expected up to " + last);
                            return;
                        }
                        seen.add(m);
                        c.ack(m.seq());
                    }
                }
                check(id, expected, seen, unanswered);
            }
        }
    }

    /** Every answered push once, in seq order with its own seq; anything else only a push the kill cut off. */
    private static void check(String id, List<Pushed> expected, List<SwbTestClient.Msg> seen, Set<String> unknown) {
        Set<Long> seqs = new HashSet<>();
        long previous = 0;
        for (SwbTestClient.Msg m : seen) {
            assertTrue(seqs.add(m.seq()), id + ": seq " + m.seq() + " delivered twice");
            assertTrue(m.seq() > previous, id + ": seq " + m.seq() + " after " + previous);
            previous = m.seq();
        }
        Map<Long, String> bySeq = new LinkedHashMap<>();
        seen.forEach(m -> bySeq.put(m.seq(), m.text()));
        for (Pushed p : expected) {
            assertEquals(p.payload(), bySeq.remove(p.seq()), id + ": the push answered with seq " + p.seq());
        }
        for (String extra : bySeq.values()) {
            assertTrue(unknown.contains(extra), id + ": delivered '" + extra + "', never answered 200 nor cut off");
        }
    }

    /** Pushes to its own clients in turn (ttl 1 h) until stopped or the server goes away. */
    private static void push(int apiPort, int pusher, AtomicBoolean stop, Map<String, List<Pushed>> answered,
                             Set<String> unanswered) {
        try (ApiClient api = new ApiClient(apiPort, null)) {
            for (int i = 0; !stop.get(); i++) {
                String id = "k" + pusher + "-" + (i % CLIENTS_PER_PUSHER);
                String payload = id + "#" + i;
                ApiClient.Response r;
                try {
                    unanswered.add(payload);
                    r = api.post("/v1/clients/" + id + "/messages?ttl=3600", payload);
                } catch (IOException | InterruptedException e) {
                    return; // killed: this push has no answer
                }
                if (r.status() != 200) {
                    fail(id + ": " + r.status() + " " + r.body());
                }
                unanswered.remove(payload);
                answered.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>()))
                        .add(new Pushed(r.json().get("seq").asLong(), payload));
            }
        }
    }
}
