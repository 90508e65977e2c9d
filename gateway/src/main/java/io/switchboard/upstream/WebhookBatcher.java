package io.switchboard.upstream;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner thread of a webhook sink: drains the {@link WebhookInbox} into batches, keeps at most
 * {@code maxInFlightBatches} of them posted or waiting for a retry, decides each attempt's outcome (2xx accepted;
 * 429, 5xx and I/O errors retried with {@link WebhookBackoff}; anything else refused), completes every message
 * exactly once, and runs the flush on close.
 *
 * <p>All state here is owned by the one {@code switchboard-webhook} thread; other threads only call {@link #wake}
 * and {@link #flushAndStop}, and HTTP results are handed back to the owner.
 */
final class WebhookBatcher {
    // The sink's own logger name, where operators already look for it.
    private static final Logger LOG = LoggerFactory.getLogger(WebhookSink.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /** A batch from its first POST to its outcome. Owner thread only. */
    private static final class Batch {
        final long id;
        final List<WebhookMessage> items;
        final byte[] body;
        int attempts;
        boolean finished;
        Future<?> request;
        ScheduledFuture<?> retry;

        Batch(long id, List<WebhookMessage> items, byte[] body) {
            this.id = id;
            this.items = items;
            this.body = body;
        }
    }

    private final URI url;
    private final WebhookSink.Options options;
    private final WebhookInbox inbox;
    private final WebhookTransport transport;
    private final WebhookBackoff backoff;
    private final WebhookCounters counters;
    private final ScheduledThreadPoolExecutor owner;
    private final Runnable drainTask = this::drain;

    // Owner thread only.
    private final Set<Batch> active = new LinkedHashSet<>();
    /** Halves of batches refused 413, to post before anything from the inbox, oldest first (see {@link #split}). */
    private final java.util.ArrayDeque<List<WebhookMessage>> halves = new java.util.ArrayDeque<>();
    private long batchSeq;
    private boolean shuttingDown;
    private boolean terminated;
    private String lastProblem;
    private long shutdownDeadlineNs;
    private ScheduledFuture<?> shutdownDeadlineTask;
    private CompletableFuture<Void> shutdownDone;

    WebhookBatcher(URI url, WebhookSink.Options options, WebhookInbox inbox, WebhookTransport transport,
                   WebhookBackoff backoff, WebhookCounters counters) {
        this.url = url;
        this.options = options;
        this.inbox = inbox;
        this.transport = transport;
        this.backoff = backoff;
        this.counters = counters;
        int instance = INSTANCES.incrementAndGet();
        this.owner = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "switchboard-webhook-" + instance);
            t.setDaemon(true);
            return t;
        });
        owner.setRemoveOnCancelPolicy(true);
        owner.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        owner.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    }

    /**
     * Any thread, after queueing a message that made {@code queued}: wakes the owner once per linger window (the
     * queue went non-empty) and once per full batch. Never blocks.
     */
    void wake(int queued) {
        try {
            if (queued % options.maxBatchMessages() == 0 || (queued == 1 && options.lingerMs() == 0)) {
                owner.execute(drainTask);
            } else if (queued == 1) {
                owner.schedule(drainTask, options.lingerMs(), TimeUnit.MILLISECONDS);
            }
        } catch (RejectedExecutionException e) {
            // Only after close(); the shutdown sweep or the offer's own removal has taken care of the message.
        }
    }

    // ---- owner thread -------------------------------------------------------------------------------------

    private void drain() {
        if (terminated) {
            // close() has finished: anything still queued lost a race with it, and is refused here.
            WebhookMessage p;
            while ((p = inbox.poll()) != null) {
                inbox.taken(1);
                complete(p, counters.refusedShuttingDown, 503, "shutting down");
            }
            refuseHalves();
            return;
        }
        int max = options.maxBatchMessages();
        while (active.size() < options.maxInFlightBatches()) {
            if (!halves.isEmpty()) {
                start(halves.poll());
                continue;
            }
            WebhookMessage first = inbox.poll();
            if (first == null) {
                break;
            }
            List<WebhookMessage> items = new ArrayList<>(Math.min(max, Math.max(1, inbox.queued())));
            items.add(first);
            long bodyBytes = bodyBytes(first);
            WebhookMessage p;
            // Cut by encoded size too: a webhook refuses a body past its limit (413) however few messages it holds.
            while (items.size() < max && (p = inbox.peek()) != null
                    && bodyBytes + bodyBytes(p) <= bodyLimit && (p = inbox.poll()) != null) {
                items.add(p);
                bodyBytes += bodyBytes(p);
            }
            inbox.taken(items.size());
            start(items);
        }
        // A message counted by an offer that raced with the polls above is covered by no wake-up: arm one.
        if (inbox.queued() > 0 && active.size() < options.maxInFlightBatches()) {
            schedule(drainTask, options.lingerMs());
        }
    }

    /**
     * A batch's body is cut at about this many bytes (a message larger than it goes alone): below the limits common
     * webhook stacks put on a request body (nginx's 1 MiB, Express's 100 KB is an application's own choice).
     */
    static final long MAX_BATCH_BODY_BYTES = 1L << 20;
    /** Where batches are cut now: {@link #MAX_BATCH_BODY_BYTES}, or half the smallest body the webhook refused 413. */
    private long bodyLimit = MAX_BATCH_BODY_BYTES;

    /** About the bytes {@code m} takes in a batch's JSON body (its payload in base64, its names, the field names). */
    static long bodyBytes(WebhookMessage m) {
        return 4L * ((m.payload.length + 2) / 3) + m.clientId.length() + m.sendId.length()
                + (m.topic == null ? 0 : m.topic.length() + 12) + 80;
    }

    private void start(List<WebhookMessage> items) {
        byte[] body;
        try {
            body = WebhookTransport.encode(items);
        } catch (RuntimeException e) {
            LOG.error("cannot encode an upstream batch of {} messages", items.size(), e);
            for (WebhookMessage p : items) {
                complete(p, counters.refusedUnavailable, 503, "backend unavailable");
            }
            return;
        }
        Batch b = new Batch(++batchSeq, items, body);
        active.add(b);
        counters.batchesPosted.increment();
        post(b);
    }

    private void post(Batch b) {
        b.attempts++;
        long timeoutMs = options.requestTimeoutMs();
        if (shuttingDown) {
            timeoutMs = Math.max(1, Math.min(timeoutMs, TimeUnit.NANOSECONDS.toMillis(shutdownDeadlineNs - System.nanoTime())));
        }
        HttpRequest request = transport.request(b.id, b.attempts, b.body, timeoutMs);
        CompletableFuture<HttpResponse<Void>> sent;
        try {
            sent = transport.send(request);
        } catch (RuntimeException e) {
            // Report it from a fresh owner task rather than recursing into drain() from here.
            if (schedule(() -> onResult(b, null, e), 0) == null) {
                finish(b, counters.refusedShuttingDown, 503, "shutting down");
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
        long retryAfterMs = 0;
        if (err == null) {
            int status = resp.statusCode();
            retryAfterMs = retryAfterMs(resp);
            if (status >= 200 && status < 300) {
                if (lastProblem != null) {
                    lastProblem = null;
                    LOG.info("upstream webhook {} accepts batches again (HTTP {})", url, status);
                }
                finish(b, null, 0, null);
                return;
            }
            if (status == 413 && b.items.size() > 1) {
                // Too large for the webhook as a whole: its halves are posted as batches of their own (each halved
                // again when refused so), down to single messages, which only then are refused for good.
                noteProblem("HTTP 413 (body too large): posting such batches in halves, and smaller batches from now on");
                // Remembered: later batches are cut below what was refused, not refused and halved again each time.
                bodyLimit = Math.max(1, Math.min(bodyLimit, b.body.length / 2));
                split(b);
                return;
            }
            if (status != 429 && status != 408 && status < 500) { // 408: timed out, nothing wrong with the batch
                noteProblem("HTTP " + status + ", permanent: NACK 502");
                finish(b, counters.refusedBackend, 502, "backend refused: HTTP " + status);
                return;
            }
            problem = "HTTP " + status;
        } else {
            Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            problem = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
        }
        noteProblem(problem + ", retrying; NACK 503 after " + options.maxAttempts() + " attempts");
        if (b.attempts >= options.maxAttempts()) {
            finish(b, counters.refusedUnavailable, 503, "backend unavailable");
            return;
        }
        b.retry = schedule(() -> retry(b), Math.max(backoff.delayMs(b.attempts), retryAfterMs));
        if (b.retry == null) {
            finish(b, counters.refusedShuttingDown, 503, "shutting down");
        }
    }

    /**
     * Replaces {@code b} (answered, nothing in flight) by its two halves, posted as batches of their own before
     * anything newer and within the in-flight limit (so that {@code --upstream-in-flight 1} keeps the order).
     */
    private void split(Batch b) {
        b.finished = true;
        active.remove(b);
        int half = b.items.size() / 2;
        halves.addFirst(new ArrayList<>(b.items.subList(half, b.items.size())));
        halves.addFirst(new ArrayList<>(b.items.subList(0, half)));
        drain();
    }

    /** Shutting down: the halves not posted yet are refused like what is left queued. */
    private void refuseHalves() {
        for (List<WebhookMessage> h; (h = halves.poll()) != null; ) {
            for (WebhookMessage p : h) {
                complete(p, counters.refusedShuttingDown, 503, "shutting down");
            }
        }
    }

    /** The longest {@code Retry-After} honoured: a webhook asking for more is asked again after this. */
    static final long MAX_RETRY_AFTER_MS = 30_000;

    /**
     * A 429 or 503's {@code Retry-After} in seconds (RFC 9110 10.2.3; the HTTP-date form is not read), at most
     * {@link #MAX_RETRY_AFTER_MS}; 0 when absent or unreadable.
     */
    static long retryAfterMs(HttpResponse<?> resp) {
        int status = resp.statusCode();
        if (status != 429 && status != 503) {
            return 0;
        }
        String v = resp.headers().firstValue("Retry-After").orElse("").strip();
        if (v.isEmpty() || v.length() > 9 || !v.chars().allMatch(Character::isDigit)) {
            return 0;
        }
        return Math.min(MAX_RETRY_AFTER_MS, Long.parseLong(v) * 1000);
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
        counters.retries.increment();
        post(b);
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
        for (WebhookMessage p : b.items) {
            complete(p, reason, code, text);
        }
        if (shuttingDown && !terminated && active.isEmpty() && halves.isEmpty() && inbox.isEmpty()) {
            terminate();
        } else {
            drain();
        }
    }

    /** Releases the message's share of the buffer, counts, and calls back ({@code reason == null}: accepted). */
    private void complete(WebhookMessage p, LongAdder reason, int code, String text) {
        inbox.release(p.payload.length);
        counters.complete(p.callback, reason, code, text);
    }

    private ScheduledFuture<?> schedule(Runnable task, long delayMs) {
        try {
            return owner.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    // ---- shutdown -----------------------------------------------------------------------------------------

    /**
     * Any thread, once: asks the owner to post what is buffered and waits up to {@code closeDeadlineMs} (plus a
     * little) for the outcome, then stops the owner thread (see {@link WebhookSink#close()}).
     */
    void flushAndStop() {
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
    }

    /** Any thread: waits (bounded) for the owner thread to end after {@link #flushAndStop}. */
    void awaitTermination() {
        try {
            owner.awaitTermination(options.closeDeadlineMs() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void beginShutdown(CompletableFuture<Void> done) {
        shuttingDown = true;
        shutdownDone = done;
        shutdownDeadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.closeDeadlineMs());
        shutdownDeadlineTask = schedule(this::shutdownDeadlineReached, options.closeDeadlineMs());
        drain();
        if (!terminated && active.isEmpty() && halves.isEmpty() && inbox.isEmpty()) {
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
                for (WebhookMessage p : b.items) {
                    complete(p, counters.refusedShuttingDown, 503, "shutting down");
                }
            }
        }
        terminate();
    }

    /** Owner: flush attempt over. Refuses whatever is still queued and releases {@link #flushAndStop()}. */
    private void terminate() {
        terminated = true;
        if (shutdownDeadlineTask != null) {
            shutdownDeadlineTask.cancel(false);
        }
        drain();
        shutdownDone.complete(null);
    }
}
