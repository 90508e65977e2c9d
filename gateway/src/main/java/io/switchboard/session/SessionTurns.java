package io.switchboard.session;

import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs the work handed to a session's loop in the order it was handed over ({@link Session#takeTurn}). Work arrives
 * out of its turn while the session moves to another loop (a takeover from a connection on another loop): work
 * queued on the loop it left follows it there, behind work handed to the new loop directly since; or when a thread
 * took a turn and has not queued its work yet while a request read on the session's own loop takes the next one and
 * runs it at once. The later work waits here until the earlier one arrived, so that the pushes of one API
 * connection reach the client in the order they were made. Every turn taken must be run, once, on the session it
 * was taken on. The order is per session object: a push that finds its session ended (the client left) looks the
 * client up again and takes a turn with its new session, after pushes made to that one meanwhile.
 */
final class SessionTurns {
    /** Work waiting for an earlier turn, per session: none at all nearly always. */
    private final ConcurrentHashMap<Session, HashMap<Integer, Runnable>> waiting = new ConcurrentHashMap<>();

    /** Runs {@code work} now if {@code turn} is {@code s}'s next, then the waiting work that follows; on its loop. */
    void run(Session s, int turn, Runnable work) {
        if (turn != s.turnServed()) {
            waiting.computeIfAbsent(s, k -> new HashMap<>()).put(turn, work);
            return;
        }
        Throwable first = null;
        for (Runnable next = work; next != null; next = waitingFor(s)) {
            try {
                next.run();
            } catch (Throwable e) { // the work's own failure handling failed (out of memory...): the next still runs
                if (first == null) {
                    first = e;
                }
            }
            s.turnDone();
        }
        if (first instanceof RuntimeException e) {
            throw e;
        } else if (first instanceof Error e) {
            throw e;
        }
    }

    /** Work of sessions waiting for an earlier turn. */
    int waiting() {
        int n = 0;
        for (HashMap<Integer, Runnable> m : waiting.values()) {
            n += m.size();
        }
        return n;
    }

    private Runnable waitingFor(Session s) {
        if (waiting.isEmpty()) {
            return null; // nearly always: no hash of s, no lookup
        }
        HashMap<Integer, Runnable> m = waiting.get(s);
        if (m == null) {
            return null;
        }
        Runnable next = m.remove(s.turnServed());
        if (m.isEmpty()) {
            waiting.remove(s);
        }
        return next;
    }
}
