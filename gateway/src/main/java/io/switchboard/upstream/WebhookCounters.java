package io.switchboard.upstream;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A webhook sink's counters, and the one place its callbacks are called: each outcome is counted, then told to
 * the callback, and a callback that throws is counted and logged once. Thread-safe.
 */
final class WebhookCounters {
    // The sink's own logger name, where operators already look for it.
    private static final Logger LOG = LoggerFactory.getLogger(WebhookSink.class);

    final LongAdder offered = new LongAdder();
    final LongAdder accepted = new LongAdder();
    final LongAdder refusedBufferFull = new LongAdder();
    final LongAdder refusedShuttingDown = new LongAdder();
    final LongAdder refusedBackend = new LongAdder();
    final LongAdder refusedUnavailable = new LongAdder();
    final LongAdder batchesPosted = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder callbackErrors = new LongAdder();

    /** Counts and calls back one outcome: accepted when {@code reason} is null, else refused for that reason. */
    void complete(UpstreamSink.Callback callback, LongAdder reason, int code, String text) {
        try {
            if (reason == null) {
                accepted.increment();
                callback.accepted();
            } else {
                reason.increment();
                callback.refused(code, text);
            }
        } catch (RuntimeException e) {
            callbackFailed(e);
        }
    }

    private void callbackFailed(RuntimeException e) {
        callbackErrors.increment();
        if (callbackErrors.sum() == 1) {
            LOG.warn("upstream callback threw (logged once, counted in callbackErrors)", e);
        }
    }

    /** See {@link WebhookSink#refusedByReason()}. */
    Map<String, Long> refusedByReason() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put(WebhookSink.BUFFER_FULL, refusedBufferFull.sum());
        m.put(WebhookSink.SHUTTING_DOWN, refusedShuttingDown.sum());
        m.put(WebhookSink.BACKEND_REFUSED, refusedBackend.sum());
        m.put(WebhookSink.BACKEND_UNAVAILABLE, refusedUnavailable.sum());
        return Collections.unmodifiableMap(m);
    }
}
