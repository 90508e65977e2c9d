package io.switchboard.swb;

import java.util.ArrayList;
import java.util.List;

/** What a test handler saw: one line per frame, and whether malformed input was reported (at most once). */
abstract class FrameRecorder {
    final List<String> events = new ArrayList<>();
    boolean malformed;

    final void record(String event) {
        events.add(event);
    }

    final void recordMalformed(String event) {
        if (malformed) {
            throw new AssertionError("malformed input reported twice");
        }
        malformed = true;
        events.add("MALFORMED " + event);
    }
}
