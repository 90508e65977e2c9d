package io.switchboard.upstream;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * {@code --upstream webhook:URL}: forwards client {@code SEND}s to an HTTP endpoint as batched JSON POSTs
 * (body format in {@code docs/upstream.md}).
 *
 * <p>Delivery is at least once per batch: a message is reported {@link Callback#accepted() accepted} only after
 * the webhook answered 2xx to a POST containing it; a retried batch may reach the backend more than once
 * (same {@code X-Switchboard-Batch} header). Connect errors, timeouts, 429 and 5xx are retried with
 * exponential backoff and jitter; any other status is a permanent refusal (NACK 502); retries exhausted give
 * NACK 503. Messages held (queued, in flight, or waiting for a retry) are bounded in count and payload bytes;
 * beyond that {@link #offer} refuses at once with 503. Order is kept within a batch; with
 * {@link Options#maxInFlightBatches()} {@code > 1} batches may overtake each other.
 *
 * <p>Threading: {@link #offer} is lock-free and never blocks (it appends to a queue and, at most once per
 * linger window or full batch, wakes the owner). All batching, retry and completion state is owned by one
 * dedicated thread ({@code switchboard-webhook}); HTTP I/O runs on the JDK {@link HttpClient}'s own threads
 * and results are handed back to the owner. Callbacks run exactly once each, on the owner thread, or on the
 * offering thread for an immediate refusal. {@link #close()} blocks for up to {@link Options#closeDeadlineMs()}
 * (plus a little) while it flushes.
 *
 * <p>This class is the public face and the admission check; {@link WebhookInbox} bounds and hands over what is
 * held, {@link WebhookBatcher} is the owner thread's batching and retry logic, {@link WebhookTransport} the HTTP.
 */
public final class WebhookSink implements UpstreamSink {

    /** Keys of {@link #refusedByReason()}, in a fixed order. */
    public static final String BUFFER_FULL = "buffer_full";
    public static final String SHUTTING_DOWN = "shutting_down";
    public static final String BACKEND_REFUSED = "backend_refused";
    public static final String BACKEND_UNAVAILABLE = "backend_unavailable";

    /** Request header naming the batch (identical on each retry of it), so a backend can drop duplicates. */
    public static final String BATCH_HEADER = "X-Switchboard-Batch";
    /** Request header with the attempt number, 1 for the first POST of a batch. */
    public static final String ATTEMPT_HEADER = "X-Switchboard-Attempt";


    /**
     * Settings of a webhook sink; every value is validated when constructed. Use {@link #DEFAULTS} and the
     * {@code with…} methods.
     *
     * @param maxBatchMessages   messages per POST at most (default 100)
     * @param lingerMs           how long the first message of a batch may wait for company (default 5)
     * @param maxAttempts        POSTs per batch at most, the first included (default 5)
     * @param retryBaseMs        backoff before the second attempt; doubles per attempt (default 100)
     * @param retryCapMs         backoff ceiling (default 5,000); each delay is jittered into [d/2, d]
     * @param bufferMaxMessages  messages held at most, queued or in flight (default 10,000)
     * @param bufferMaxBytes     payload bytes held at most (default 16 MiB)
     * @param bearerToken        sent as {@code Authorization: Bearer …} when not null (default null)
     * @param requestTimeoutMs   per-POST timeout, also the connect timeout (default 10,000)
     * @param closeDeadlineMs    how long {@link #close()} tries to flush (default 2,000)
     * @param maxInFlightBatches batches posted or awaiting a retry at once (default 4; 1 keeps strict order)
     */
    public record Options(int maxBatchMessages, long lingerMs, int maxAttempts, long retryBaseMs, long retryCapMs,
                          int bufferMaxMessages, long bufferMaxBytes, String bearerToken, long requestTimeoutMs,
                          long closeDeadlineMs, int maxInFlightBatches) {

        public static final Options DEFAULTS =
                new Options(100, 5, 5, 100, 5_000, 10_000, 16L << 20, null, 10_000, 2_000, 4);

        public Options {
            check("maxBatchMessages", maxBatchMessages, 1, 10_000);
            check("lingerMs", lingerMs, 0, 10_000);
            check("maxAttempts", maxAttempts, 1, 100);
            check("retryBaseMs", retryBaseMs, 1, 600_000);
            check("retryCapMs", retryCapMs, retryBaseMs, 600_000);
            check("bufferMaxMessages", bufferMaxMessages, 1, 10_000_000);
            check("bufferMaxBytes", bufferMaxBytes, 1, 1L << 34);
            check("requestTimeoutMs", requestTimeoutMs, 1, 600_000);
            check("closeDeadlineMs", closeDeadlineMs, 0, 600_000);
            check("maxInFlightBatches", maxInFlightBatches, 1, 1_000);
            if (bearerToken != null) {
                if (bearerToken.isEmpty()) {
                    bearerToken = null;
                } else if (!bearerToken.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                    throw new IllegalArgumentException(
                            "upstream bearer token must be printable ASCII without spaces or line breaks");
                }
            }
        }

        private static void check(String name, long value, long min, long max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException("upstream " + name + " must be between " + min + " and " + max
                        + ", got " + value);
            }
        }

        public Options withMaxBatchMessages(int v) {
            return new Options(v, lingerMs, maxAttempts, retryBaseMs, retryCapMs, bufferMaxMessages, bufferMaxBytes,
                    bearerToken, requestTimeoutMs, closeDeadlineMs, maxInFlightBatches);
        }

        public Options withLingerMs(long v) {
            return new Options(maxBatchMessages, v, maxAttempts, retryBaseMs, retryCapMs, bufferMaxMessages,
                    bufferMaxBytes, bearerToken, requestTimeoutMs, closeDeadlineMs, maxInFlightBatches);
        }

        /** Backoff settings: attempts per batch, first delay and ceiling. */
        public Options withRetries(int attempts, long baseMs, long capMs) {
            return new Options(maxBatchMessages, lingerMs, attempts, baseMs, capMs, bufferMaxMessages, bufferMaxBytes,
                    bearerToken, requestTimeoutMs, closeDeadlineMs, maxInFlightBatches);
        }

        public Options withBuffer(int messages, long bytes) {
            return new Options(maxBatchMessages, lingerMs, maxAttempts, retryBaseMs, retryCapMs, messages, bytes,
                    bearerToken, requestTimeoutMs, closeDeadlineMs, maxInFlightBatches);
        }

        public Options withBearerToken(String v) {
            return new Options(maxBatchMessages, lingerMs, maxAttempts, retryBaseMs, retryCapMs, bufferMaxMessages,
                    bufferMaxBytes, v, requestTimeoutMs, closeDeadlineMs, maxInFlightBatches);
        }

        public Options withRequestTimeoutMs(long v) {
            return new Options(maxBatchMessages, lingerMs, maxAttempts, retryBaseMs, retryCapMs, bufferMaxMessages,
                    bufferMaxBytes, bearerToken, v, closeDeadlineMs, maxInFlightBatches);
        }

        public Options withCloseDeadlineMs(long v) {
            return new Options(maxBatchMessages, lingerMs, maxAttempts, retryBaseMs, retryCapMs, bufferMaxMessages,
                    bufferMaxBytes, bearerToken, requestTimeoutMs, v, maxInFlightBatches);
        }

        public Options withMaxInFlightBatches(int v) {
            return new Options(maxBatchMessages, lingerMs, maxAttempts, retryBaseMs, retryCapMs, bufferMaxMessages,
                    bufferMaxBytes, bearerToken, requestTimeoutMs, closeDeadlineMs, v);
        }

        /** Never prints the bearer token. */
        @Override
        public String toString() {
            return "Options[maxBatchMessages=" + maxBatchMessages + ", lingerMs=" + lingerMs + ", maxAttempts="
                    + maxAttempts + ", retryBaseMs=" + retryBaseMs + ", retryCapMs=" + retryCapMs
                    + ", bufferMaxMessages=" + bufferMaxMessages + ", bufferMaxBytes=" + bufferMaxBytes
                    + ", bearerToken=" + (bearerToken == null ? "none" : "***") + ", requestTimeoutMs="
                    + requestTimeoutMs + ", closeDeadlineMs=" + closeDeadlineMs + ", maxInFlightBatches="
                    + maxInFlightBatches + "]";
        }
    }

    private final URI url;
    private final Options options;
    private final LongSupplier clockMs;
    private final WebhookInbox inbox;
    private final WebhookCounters counters = new WebhookCounters();
    private final WebhookBackoff backoff;
    private final WebhookTransport transport;
    private final WebhookBatcher batcher;
    // Set once by close(); offers check it before and after queueing.
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A sink with {@link Options#DEFAULTS}. */
    public WebhookSink(URI url) {
        this(url, Options.DEFAULTS);
    }

    /**
     * @param url     an http or https URL (see {@link #parseUrl(String)} for operator-facing validation)
     * @param options settings, e.g. {@code Options.DEFAULTS.withBearerToken(t)}
     */
    public WebhookSink(URI url, Options options) {
        this(url, options, null, System::currentTimeMillis, new SplittableRandom());
    }

    /**
     * For tests: inject the HTTP client ({@code null} to build one; a given client is not shut down by
     * {@link #close()}), the wall clock used for {@code received_ms}, and the jitter source (owner thread only).
     */
    WebhookSink(URI url, Options options, HttpClient http, LongSupplier clockMs, RandomGenerator jitter) {
        this.url = checkUrl(url, "upstream webhook " + url);
        this.options = options;
        this.clockMs = clockMs;
        this.inbox = new WebhookInbox(options.bufferMaxMessages(), options.bufferMaxBytes());
        this.backoff = new WebhookBackoff(options.retryBaseMs(), options.retryCapMs(), jitter);
        this.transport = new WebhookTransport(this.url, options, http);
        this.batcher = new WebhookBatcher(this.url, options, inbox, transport, backoff, counters);
    }

    /**
     * Validates a webhook URL given on the command line.
     *
     * @throws IllegalArgumentException with a one-line message such as
     *                                  {@code "--upstream webhook:ftp://x: URL must start with http:// or https://"}
     */
    public static URI parseUrl(String text) {
        String label = "--upstream webhook:" + text;
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("--upstream webhook: needs a URL, e.g. webhook:http://127.0.0.1:9000/switchboard");
        }
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(label + ": not a valid URL (" + e.getReason() + " at index " + e.getIndex() + ")", e);
        }
        return checkUrl(uri, label);
    }

    private static URI checkUrl(URI uri, String label) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(label + ": URL must start with http:// or https://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException(label + ": URL has no valid host name (letters, digits, '-' and '.' only)");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException(label + ": credentials in the URL are not supported; use the upstream bearer token setting");
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException(label + ": URL must not have a #fragment");
        }
        try {
            HttpRequest.newBuilder(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(label + ": unusable URL (" + e.getMessage() + ")", e);
        }
        return uri;
    }

    public URI url() {
        return url;
    }

    public Options options() {
        return options;
    }

    @Override
    public void offer(String clientId, String sendId, String topic, byte[] payload, Callback callback) {
        counters.offered.increment();
        if (closed.get()) {
            counters.complete(callback, counters.refusedShuttingDown, 503, "shutting down");
            return;
        }
        int bytes = payload.length;
        if (!inbox.reserve(bytes)) {
            counters.complete(callback, counters.refusedBufferFull, 503, "upstream buffer full");
            return;
        }
        WebhookMessage p = new WebhookMessage(clientId, sendId, topic, payload, callback, clockMs.getAsLong());
        int queued = inbox.add(p);
        if (closed.get()) {
            // close() may have started after the first check and the owner may already have swept the inbox:
            // whoever removes p from the queue completes it.
            if (inbox.remove(p)) {
                inbox.release(bytes);
                counters.complete(callback, counters.refusedShuttingDown, 503, "shutting down");
            }
            return;
        }
        batcher.wake(queued);
    }

    /** Delay after the {@code attempts}-th failure (see {@link WebhookBackoff}). */
    long backoffMs(int attempts) {
        return backoff.delayMs(attempts);
    }

    /**
     * Stops accepting (later offers are refused with 503 "shutting down"), posts what is buffered, waits up to
     * {@link Options#closeDeadlineMs()} for the answers, refuses the rest with 503 "shutting down", then stops
     * the owner thread. Every message ever offered has had its callback called when this returns. Idempotent.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            batcher.flushAndStop();
            transport.close();
        }
        batcher.awaitTermination();
    }

    // ---- counters -----------------------------------------------------------------------------------------

    /** Messages offered, including those refused at once. */
    public long offered() {
        return counters.offered.sum();
    }

    /** Messages the webhook accepted (2xx). */
    public long accepted() {
        return counters.accepted.sum();
    }

    /**
     * Messages refused, by reason, every key present: {@code buffer_full} (503), {@code shutting_down} (503),
     * {@code backend_refused} (502, a non-retryable HTTP status), {@code backend_unavailable} (503, retries
     * exhausted). A fresh unmodifiable snapshot.
     */
    public Map<String, Long> refusedByReason() {
        return counters.refusedByReason();
    }

    /** Batches formed and posted (each counted once, however many attempts it took). */
    public long batchesPosted() {
        return counters.batchesPosted.sum();
    }

    /** Re-posts of a batch after a failed attempt. */
    public long retries() {
        return counters.retries.sum();
    }

    /** Gauge: messages held now (queued, in flight or awaiting a retry). */
    public long bufferedMessages() {
        return inbox.heldMessages();
    }

    /** Gauge: payload bytes held now. */
    public long bufferedBytes() {
        return inbox.heldBytes();
    }

    @Override
    public Map<String, Long> stats() {
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        m.put("offered", offered());
        m.put("accepted", accepted());
        refusedByReason().forEach((reason, n) -> m.put("refused_" + reason, n));
        m.put("batches_posted", batchesPosted());
        m.put("retries", retries());
        m.put("buffered_messages", bufferedMessages());
        m.put("buffered_bytes", bufferedBytes());
        return m;
    }

    /** Callbacks that threw (a bug in the caller; counted and logged once). */
    public long callbackErrors() {
        return counters.callbackErrors.sum();
    }

    @Override
    public String toString() {
        return "WebhookSink[" + url + ", " + options + "]";
    }
}
