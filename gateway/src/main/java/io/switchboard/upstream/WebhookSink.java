package io.switchboard.upstream;

import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    private static final Logger LOG = LoggerFactory.getLogger(WebhookSink.class);
    private static final JsonFactory JSON = new JsonFactory();
    private static final AtomicInteger INSTANCES = new AtomicInteger();

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

    /** One offered message; owned by whoever removed it from {@link #inbox} (the owner, or a racing offer). */
    private static final class Pending {
        final String clientId;
        final String sendId;
        final byte[] payload;
        final Callback callback;
        final long receivedMs;

        Pending(String clientId, String sendId, byte[] payload, Callback callback, long receivedMs) {
            this.clientId = clientId;
            this.sendId = sendId;
            this.payload = payload;
            this.callback = callback;
            this.receivedMs = receivedMs;
        }
    }

    /** A batch from its first POST to its outcome. Owner thread only. */
    private static final class Batch {
        final long id;
        final List<Pending> items;
        final byte[] body;
        int attempts;
        boolean finished;
        Future<?> request;
        ScheduledFuture<?> retry;

        Batch(long id, List<Pending> items, byte[] body) {
            this.id = id;
            this.items = items;
            this.body = body;
        }
    }

    private final URI url;
    private final Options options;
    private final HttpClient http;
    private final boolean ownsHttp;
    private final LongSupplier clockMs;
    private final RandomGenerator jitter;
    private final ScheduledThreadPoolExecutor owner;
    private final String batchIdPrefix;

    // Shared between offering threads and the owner.
    private final ConcurrentLinkedQueue<Pending> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inboxCount = new AtomicInteger();
    private final AtomicLong heldMessages = new AtomicLong();
    private final AtomicLong heldBytes = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Runnable drainTask = this::drain;

    // Owner thread only.
    private final Set<Batch> active = new LinkedHashSet<>();
    private long batchSeq;
    private boolean shuttingDown;
    private boolean terminated;
    private String lastProblem;
    private long shutdownDeadlineNs;
    private ScheduledFuture<?> shutdownDeadlineTask;
    private CompletableFuture<Void> shutdownDone;

    private final LongAdder offered = new LongAdder();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder refusedBufferFull = new LongAdder();
    private final LongAdder refusedShuttingDown = new LongAdder();
    private final LongAdder refusedBackend = new LongAdder();
    private final LongAdder refusedUnavailable = new LongAdder();
    private final LongAdder batchesPosted = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder callbackErrors = new LongAdder();

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
        this.jitter = jitter;
        if (http == null) {
            this.http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofMillis(options.requestTimeoutMs()))
                    // Plain http stays HTTP/1.1 (no h2c upgrade dance); https negotiates HTTP/2 by ALPN.
                    .version("https".equalsIgnoreCase(url.getScheme()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
            this.ownsHttp = true;
        } else {
            this.http = http;
            this.ownsHttp = false;
        }
        int instance = INSTANCES.incrementAndGet();
        this.owner = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "switchboard-webhook-" + instance);
            t.setDaemon(true);
            return t;
        });
        owner.setRemoveOnCancelPolicy(true);
        owner.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        owner.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        // Unique across processes sharing a port and across restarts, so backends can deduplicate retries.
        this.batchIdPrefix = UUID.randomUUID() + "-";
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
    public void offer(String clientId, String sendId, byte[] payload, Callback callback) {
        offered.increment();
        if (closed.get()) {
            refuseNow(callback, refusedShuttingDown, 503, "shutting down");
            return;
        }
        int bytes = payload.length;
        if (heldMessages.incrementAndGet() > options.bufferMaxMessages()) {
            heldMessages.decrementAndGet();
            refuseNow(callback, refusedBufferFull, 503, "upstream buffer full");
            return;
        }
        if (heldBytes.addAndGet(bytes) > options.bufferMaxBytes()) {
            release(bytes);
            refuseNow(callback, refusedBufferFull, 503, "upstream buffer full");
            return;
        }
        Pending p = new Pending(clientId, sendId, payload, callback, clockMs.getAsLong());
        // Count before enqueueing, so the owner never sees an element it has not counted.
        int queued = inboxCount.incrementAndGet();
        inbox.offer(p);
        if (closed.get()) {
            // close() may have started after the first check and the owner may already have swept the inbox:
            // whoever removes p from the queue completes it.
            if (inbox.remove(p)) {
                inboxCount.decrementAndGet();
                release(bytes);
                refuseNow(callback, refusedShuttingDown, 503, "shutting down");
            }
            return;
        }
        // Wake the owner once per linger window (queue went non-empty) and once per full batch.
        try {
            if (queued % options.maxBatchMessages() == 0 || (queued == 1 && options.lingerMs() == 0)) {
                owner.execute(drainTask);
            } else if (queued == 1) {
                owner.schedule(drainTask, options.lingerMs(), TimeUnit.MILLISECONDS);
            }
        } catch (RejectedExecutionException e) {
            // Only after close(); the shutdown sweep or the removal above has taken care of p.
        }
    }

    private void release(int bytes) {
        heldBytes.addAndGet(-bytes);
        heldMessages.decrementAndGet();
    }

    private void refuseNow(Callback callback, LongAdder reason, int code, String text) {
        reason.increment();
        try {
            callback.refused(code, text);
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

    // ---- owner thread -------------------------------------------------------------------------------------

    private void drain() {
        if (terminated) {
            // close() has finished: anything still queued lost a race with it, and is refused here.
            Pending p;
            while ((p = inbox.poll()) != null) {
                inboxCount.decrementAndGet();
                complete(p, refusedShuttingDown, 503, "shutting down");
            }
            return;
        }
        int max = options.maxBatchMessages();
        while (active.size() < options.maxInFlightBatches()) {
            Pending first = inbox.poll();
            if (first == null) {
                break;
            }
            List<Pending> items = new ArrayList<>(Math.min(max, Math.max(1, inboxCount.get())));
            items.add(first);
            Pending p;
            while (items.size() < max && (p = inbox.poll()) != null) {
                items.add(p);
            }
            inboxCount.addAndGet(-items.size());
            start(items);
        }
        // A message counted by an offer that raced with the polls above is covered by no wake-up: arm one.
        if (inboxCount.get() > 0 && active.size() < options.maxInFlightBatches()) {
            schedule(drainTask, options.lingerMs());
        }
    }

    private void start(List<Pending> items) {
        byte[] body;
        try {
            body = encode(items);
        } catch (RuntimeException e) {
            LOG.error("cannot encode an upstream batch of {} messages", items.size(), e);
            for (Pending p : items) {
                complete(p, refusedUnavailable, 503, "backend unavailable");
            }
            return;
        }
        Batch b = new Batch(++batchSeq, items, body);
        active.add(b);
        batchesPosted.increment();
        post(b);
    }

    private static byte[] encode(List<Pending> pendings) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + pendings.size() * 96);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("messages");
            for (Pending p : pendings) {
                g.writeStartObject();
                g.writeStringField("client", p.clientId);
                g.writeStringField("id", p.sendId);
                g.writeFieldName("payload_b64");
                // Standard alphabet with padding, no line breaks (RFC 4648 section 4).
                g.writeBinary(Base64Variants.MIME_NO_LINEFEEDS, p.payload, 0, p.payload.length);
                g.writeNumberField("received_ms", p.receivedMs);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private void post(Batch b) {
        b.attempts++;
        long timeoutMs = options.requestTimeoutMs();
        if (shuttingDown) {
            timeoutMs = Math.max(1, Math.min(timeoutMs, TimeUnit.NANOSECONDS.toMillis(shutdownDeadlineNs - System.nanoTime())));
        }
        HttpRequest.Builder req = HttpRequest.newBuilder(url)
                .timeout(Duration.ofMillis(timeoutMs))
                .header("Content-Type", "application/json")
                .header("User-Agent", "switchboard-webhook")
                .header(BATCH_HEADER, batchIdPrefix + b.id)
                .header(ATTEMPT_HEADER, Integer.toString(b.attempts))
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.body));
        if (options.bearerToken() != null) {
            req.header("Authorization", "Bearer " + options.bearerToken());
        }
        CompletableFuture<HttpResponse<Void>> sent;
        try {
            sent = http.sendAsync(req.build(), HttpResponse.BodyHandlers.discarding());
        } catch (RuntimeException e) {
            // Report it from a fresh owner task rather than recursing into drain() from here.
            if (schedule(() -> onResult(b, null, e), 0) == null) {
                finish(b, refusedShuttingDown, 503, "shutting down");
            }
            return;
        }
        b.request = sent;
        // Back to the owner; if the owner is gone (after close) the batch was already completed.
        sent.whenCompleteAsync((resp, err) -> onResult(b, resp, err), owner);
    }

    private void onResult(Batch b, HttpResponse<Void> resp, Throwable err) {
        if (b.finished) {
            return;
        }
        b.request = null;
        String problem;
        if (err == null) {
            int status = resp.statusCode();
            if (status >= 200 && status < 300) {
                if (lastProblem != null) {
                    lastProblem = null;
                    LOG.info("upstream webhook {} accepts batches again (HTTP {})", url, status);
                }
                finish(b, null, 0, null);
                return;
            }
            if (status != 429 && status < 500) {
                noteProblem("HTTP " + status + ", permanent: NACK 502");
                finish(b, refusedBackend, 502, "backend refused: HTTP " + status);
                return;
            }
            problem = "HTTP " + status;
        } else {
            Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            problem = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
        }
        noteProblem(problem + ", retrying; NACK 503 after " + options.maxAttempts() + " attempts");
        if (b.attempts >= options.maxAttempts()) {
            finish(b, refusedUnavailable, 503, "backend unavailable");
            return;
        }
        b.retry = schedule(() -> retry(b), backoffMs(b.attempts));
        if (b.retry == null) {
            finish(b, refusedShuttingDown, 503, "shutting down");
        }
    }

    /** Logs a problem once until it changes or the webhook recovers (an outage must not flood the log). */
    private void noteProblem(String problem) {
        if (!problem.equals(lastProblem)) {
            lastProblem = problem;
            LOG.warn("upstream webhook {}: {}", url, problem);
        }
    }

    private void retry(Batch b) {
        if (b.finished) {
            return;
        }
        b.retry = null;
        retries.increment();
        post(b);
    }

    /** Delay after the {@code attempts}-th failure: base·2^(attempts-1), capped, jittered into [d/2, d]. */
    long backoffMs(int attempts) {
        int shift = Math.min(attempts - 1, 30);
        long d = Math.min(options.retryCapMs(), options.retryBaseMs() << shift);
        if (d <= 0 || d > options.retryCapMs()) {
            d = options.retryCapMs();
        }
        long half = d / 2;
        return half + jitter.nextLong(d - half + 1);
    }

    private void finish(Batch b, LongAdder reason, int code, String text) {
        b.finished = true;
        active.remove(b);
        if (b.retry != null) {
            b.retry.cancel(false);
            b.retry = null;
        }
        if (b.request != null) {
            b.request.cancel(true);
            b.request = null;
        }
        for (Pending p : b.items) {
            complete(p, reason, code, text);
        }
        if (shuttingDown && !terminated && active.isEmpty() && inbox.peek() == null) {
            terminate();
        } else {
            drain();
        }
    }

    /** Releases the message's share of the buffer, counts, and calls back ({@code reason == null}: accepted). */
    private void complete(Pending p, LongAdder reason, int code, String text) {
        release(p.payload.length);
        try {
            if (reason == null) {
                accepted.increment();
                p.callback.accepted();
            } else {
                reason.increment();
                p.callback.refused(code, text);
            }
        } catch (RuntimeException e) {
            callbackFailed(e);
        }
    }

    private ScheduledFuture<?> schedule(Runnable task, long delayMs) {
        try {
            return owner.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    // ---- shutdown -----------------------------------------------------------------------------------------

    private void beginShutdown(CompletableFuture<Void> done) {
        shuttingDown = true;
        shutdownDone = done;
        shutdownDeadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.closeDeadlineMs());
        shutdownDeadlineTask = schedule(this::shutdownDeadlineReached, options.closeDeadlineMs());
        drain();
        if (!terminated && active.isEmpty() && inbox.peek() == null) {
            terminate();
        }
    }

    private void shutdownDeadlineReached() {
        if (terminated) {
            return;
        }
        for (Batch b : List.copyOf(active)) {
            if (!b.finished) {
                b.finished = true;
                active.remove(b);
                if (b.retry != null) {
                    b.retry.cancel(false);
                }
                if (b.request != null) {
                    b.request.cancel(true);
                }
                for (Pending p : b.items) {
                    complete(p, refusedShuttingDown, 503, "shutting down");
                }
            }
        }
        terminate();
    }

    /** Owner: flush attempt over. Refuses whatever is still queued and releases {@link #close()}. */
    private void terminate() {
        terminated = true;
        if (shutdownDeadlineTask != null) {
            shutdownDeadlineTask.cancel(false);
        }
        drain();
        shutdownDone.complete(null);
    }

    /**
     * Stops accepting (later offers are refused with 503 "shutting down"), posts what is buffered, waits up to
     * {@link Options#closeDeadlineMs()} for the answers, refuses the rest with 503 "shutting down", then stops
     * the owner thread. Every message ever offered has had its callback called when this returns. Idempotent.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            try {
                owner.execute(() -> beginShutdown(done));
                done.get(options.closeDeadlineMs() + 5_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
                LOG.error("upstream webhook {}: flush on close did not finish cleanly", url, e);
            }
            owner.shutdown();
            if (ownsHttp) {
                http.shutdownNow();
            }
        }
        try {
            owner.awaitTermination(options.closeDeadlineMs() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- counters -----------------------------------------------------------------------------------------

    /** Messages offered, including those refused at once. */
    public long offered() {
        return offered.sum();
    }

    /** Messages the webhook accepted (2xx). */
    public long accepted() {
        return accepted.sum();
    }

    /**
     * Messages refused, by reason, every key present: {@code buffer_full} (503), {@code shutting_down} (503),
     * {@code backend_refused} (502, a non-retryable HTTP status), {@code backend_unavailable} (503, retries
     * exhausted). A fresh unmodifiable snapshot.
     */
    public Map<String, Long> refusedByReason() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put(BUFFER_FULL, refusedBufferFull.sum());
        m.put(SHUTTING_DOWN, refusedShuttingDown.sum());
        m.put(BACKEND_REFUSED, refusedBackend.sum());
        m.put(BACKEND_UNAVAILABLE, refusedUnavailable.sum());
        return Collections.unmodifiableMap(m);
    }

    /** Batches formed and posted (each counted once, however many attempts it took). */
    public long batchesPosted() {
        return batchesPosted.sum();
    }

    /** Re-posts of a batch after a failed attempt. */
    public long retries() {
        return retries.sum();
    }

    /** Gauge: messages held now (queued, in flight or awaiting a retry). */
    public long bufferedMessages() {
        return heldMessages.get();
    }

    /** Gauge: payload bytes held now. */
    public long bufferedBytes() {
        return heldBytes.get();
    }

    /** Callbacks that threw (a bug in the caller; counted and logged once). */
    public long callbackErrors() {
        return callbackErrors.sum();
    }

    @Override
    public String toString() {
        return "WebhookSink[" + url + ", " + options + "]";
    }
}
