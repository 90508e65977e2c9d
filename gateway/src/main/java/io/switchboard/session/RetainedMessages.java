package io.switchboard.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Retained messages in MQTT's meaning: the last message published to a topic with the retain flag, kept and given to
 * every new subscription whose filter matches the topic (an empty payload deletes it). Published by MQTT clients and
 * by the API ({@code POST /v1/topics/{topic}/messages?retain=true}); read by MQTT subscriptions. Bounded by a count
 * and by bytes (topic plus payload): a new topic beyond either is refused, a replacement that grows past the byte
 * bound too. In memory only: a restart forgets them.
 *
 * <p>Thread-safe: any loop and the API write and read it. A filter with wildcards is matched against every retained
 * topic (at most {@code maxCount}); a filter without one is a single lookup.
 */
public final class RetainedMessages {
    /** What {@link #retain} did. */
    public enum Outcome { STORED, DELETED, FULL }

    private final ConcurrentHashMap<String, byte[]> byTopic = new ConcurrentHashMap<>();
    private final int maxCount;
    private final long maxBytes;
    /** Topic characters plus payload bytes of every retained message; guarded by this. */
    private long bytes;

    public RetainedMessages(int maxCount, long maxBytes) {
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
    }

    /** Keeps {@code payload} as {@code topic}'s retained message, or deletes it when empty. */
    public synchronized Outcome retain(String topic, byte[] payload) {
        byte[] old = byTopic.get(topic);
        long oldBytes = old == null ? 0 : topic.length() + old.length;
        if (payload.length == 0) {
            if (old != null) {
                byTopic.remove(topic);
                bytes -= oldBytes;
            }
            return Outcome.DELETED;
        }
        long newBytes = topic.length() + payload.length;
        if ((old == null && byTopic.size() >= maxCount) || bytes - oldBytes + newBytes > maxBytes) {
            return Outcome.FULL;
        }
        byTopic.put(topic, payload);
        bytes += newBytes - oldBytes;
        return Outcome.STORED;
    }

    /** Calls {@code action} with each retained message whose topic {@code filter} matches. */
    public void forEachMatch(String filter, BiConsumer<String, byte[]> action) {
        if (!TopicIndex.isWildcard(filter)) {
            byte[] p = byTopic.get(filter);
            if (p != null) {
                action.accept(filter, p);
            }
            return;
        }
        for (Map.Entry<String, byte[]> e : byTopic.entrySet()) {
            if (TopicIndex.matches(filter, e.getKey())) {
                action.accept(e.getKey(), e.getValue());
            }
        }
    }

    /** Calls {@code action} with every retained message. */
    public void forEach(BiConsumer<String, byte[]> action) {
        byTopic.forEach(action);
    }

    public int count() {
        return byTopic.size();
    }

    public synchronized long bytes() {
        return bytes;
    }
}
