package io.switchboard.upstream;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The lock-free hand-off from offering threads to a webhook's owner thread, and the bound on what the sink holds:
 * messages and payload bytes are counted from {@link #reserve} (at the offer) to {@link #release} (at the
 * outcome), whether queued here, in flight or waiting for a retry. Thread-safe; never blocks.
 */
final class WebhookInbox {
    private final ConcurrentLinkedQueue<WebhookMessage> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong heldMessages = new AtomicLong();
    private final AtomicLong heldBytes = new AtomicLong();
    private final int maxMessages;
    private final long maxBytes;

    WebhookInbox(int maxMessages, long maxBytes) {
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
    }

    /** Counts one message of {@code bytes} as held; false (and nothing counted) when that would pass a bound. */
    boolean reserve(int bytes) {
        if (heldMessages.incrementAndGet() > maxMessages) {
            heldMessages.decrementAndGet();
            return false;
        }
        if (heldBytes.addAndGet(bytes) > maxBytes) {
            release(bytes);
            return false;
        }
        return true;
    }

    /** Gives back what {@link #reserve} counted for a message of {@code bytes}. */
    void release(int bytes) {
        heldBytes.addAndGet(-bytes);
        heldMessages.decrementAndGet();
    }

    /** Queues {@code m} and returns how many are queued with it. */
    int add(WebhookMessage m) {
        // Count before enqueueing, so the owner never sees an element it has not counted.
        int n = queued.incrementAndGet();
        queue.offer(m);
        return n;
    }

    /** Takes {@code m} back out if nobody has polled it yet; true when the caller now owns it. */
    boolean remove(WebhookMessage m) {
        if (queue.remove(m)) {
            queued.decrementAndGet();
            return true;
        }
        return false;
    }

    /** The oldest queued message without taking it, or null. */
    WebhookMessage peek() {
        return queue.peek();
    }

    /** The oldest queued message, or null; the caller reports what it polled with {@link #taken}. */
    WebhookMessage poll() {
        return queue.poll();
    }

    void taken(int n) {
        queued.addAndGet(-n);
    }

    /** Messages counted as queued; may run ahead of the queue while an offer is between count and enqueue. */
    int queued() {
        return queued.get();
    }

    boolean isEmpty() {
        return queue.peek() == null;
    }

    long heldMessages() {
        return heldMessages.get();
    }

    long heldBytes() {
        return heldBytes.get();
    }
}
