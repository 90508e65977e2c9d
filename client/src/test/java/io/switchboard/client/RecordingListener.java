package io.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Records every listener event as one line of text, in order, for tests to take with a bounded wait. */
final class RecordingListener implements SwitchboardListener {
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    volatile long lastReconnectDelayMs = Long.MIN_VALUE;
    volatile Throwable lastCause;

    @Override
    public void onConnected(Welcome w) {
        events.add("connected seq=" + w.seq() + " hb=" + w.heartbeatSeconds() + (w.node() == null ? "" : " node=" + w.node()));
    }

    @Override
    public void onMessage(long seq, byte[] payload) {
        events.add("message " + seq + " " + new String(payload, StandardCharsets.UTF_8));
    }

    @Override
    public void onSessionReset(long resumedFromSeq, long serverSeq) {
        events.add("reset " + resumedFromSeq + "->" + serverSeq);
    }

    @Override
    public void onError(int code, String text) {
        events.add("error " + code + " " + text);
    }

    @Override
    public void onBye(int code, String text) {
        events.add("bye " + code + " " + text);
    }

    @Override
    public void onDisconnected(Throwable cause, long reconnectDelayMs) {
        lastCause = cause;
        lastReconnectDelayMs = reconnectDelayMs;
        events.add("disconnected " + (cause == null ? "null" : cause.getClass().getSimpleName()) + " " + reconnectDelayMs);
    }

    /** The next event; fails if none arrives within 5 s. */
    String next() throws InterruptedException {
        String e = events.poll(5, TimeUnit.SECONDS);
        assertNotNull(e, "no listener event within 5 s");
        return e;
    }

    void expect(String event) throws InterruptedException {
        assertEquals(event, next());
    }

    /** The event queued right now, or null: only meaningful after a barrier on the client's event loop. */
    String poll() {
        return events.poll();
    }
}
