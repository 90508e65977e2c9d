package io.switchboard.bench.protocol;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A {@link BenchEnv} that records what connections report, for assertions; thread-safe, waits without sleeping. */
final class RecordingEnv implements BenchEnv {
    private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(10);

    final ConnectionList members = new ConnectionList();
    private int open;
    private int established;
    private int messages;
    private int pings;
    private final List<Long> pushLatenciesUs = new ArrayList<>();
    private final List<Long> broadcastLatenciesUs = new ArrayList<>();
    private final List<Long> handshakesNs = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();

    @Override
    public synchronized void opened(BenchConnection c) {
        open++;
        members.add(c);
        notifyAll();
    }

    @Override
    public synchronized void closed(BenchConnection c) {
        open--;
        members.remove(c);
        notifyAll();
    }

    @Override
    public synchronized void established(long handshakeNs) {
        established++;
        handshakesNs.add(handshakeNs);
        notifyAll();
    }

    @Override
    public synchronized void messageReceived() {
        messages++;
        notifyAll();
    }

    @Override
    public synchronized void pushLatency(long latencyUs) {
        pushLatenciesUs.add(latencyUs);
        notifyAll();
    }

    @Override
    public synchronized void broadcastLatency(long latencyUs) {
        broadcastLatenciesUs.add(latencyUs);
        notifyAll();
    }

    @Override
    public synchronized void pingSent() {
        pings++;
        notifyAll();
    }

    @Override
    public synchronized void error(String reason) {
        errors.add(reason);
        notifyAll();
    }

    synchronized List<Long> broadcastLatenciesUs() {
        return List.copyOf(broadcastLatenciesUs);
    }

    synchronized int open() {
        return open;
    }

    synchronized int established() {
        return established;
    }

    synchronized int messages() {
        return messages;
    }

    synchronized int pings() {
        return pings;
    }

    synchronized List<Long> pushLatenciesUs() {
        return List.copyOf(pushLatenciesUs);
    }

    synchronized List<Long> handshakesNs() {
        return List.copyOf(handshakesNs);
    }

    synchronized List<String> errors() {
        return List.copyOf(errors);
    }

    /** Waits (at most 10 s, woken by each report) until {@code condition} holds; fails with the errors seen. */
    synchronized void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_NS;
        while (!condition.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail("timed out waiting until " + what + "; errors " + errors + ", established " + established);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }
}
