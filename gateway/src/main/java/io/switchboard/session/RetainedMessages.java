package io.switchboard.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiConsumer;

/**
 * Retained messages in MQTT's meaning: the last message published to a topic with the retain flag, kept and given to
 * every new subscription whose filter matches the topic (an empty payload deletes it). Published by MQTT clients and
 * by the API ({@code POST /v1/topics/{topic}/messages?retain=true}); read by MQTT subscriptions. Bounded by a count
 * and by bytes (topic, payload and properties): a new topic beyond either is refused, a replacement that grows past
 * the byte bound too. A message whose publisher gave it an expiry (MQTT 5 Message Expiry Interval) is not handed out
 * after it, and dropped when met then (or when the bounds are reached). In memory (and in Redis in a cluster): a
 * restart of a single process forgets them.
 *
 * <p>Thread-safe: any loop and the API write and read it. Topics are kept sorted, so a filter with wildcards is
 * matched only against the topics that start with its levels before the first wildcard ({@code fleet/dev-42/#} looks
 * at {@code fleet/dev-42...}, not at the whole fleet); a filter that starts with a wildcard looks at every retained
 * topic (at most {@code maxCount}); a filter without one is a single lookup.
 */
public final class RetainedMessages {
    /** What {@link #retain} did. */
    public enum Outcome { STORED, DELETED, FULL }

    /** A retained message: its payload and what its publisher attached (null: nothing). */
    public record Retained(byte[] payload, MessageProperties properties) {
        /** Topic characters plus payload and properties bytes: what {@link RetainedMessages} bounds. */
        long bytes(String topic) {
            return topic.length() + payload.length + (properties == null ? 0 : properties.bytes());
        }

        boolean expired(long nowMs) {
            return properties != null && properties.expired(nowMs);
        }
    }

    private final ConcurrentSkipListMap<String, Retained> byTopic = new ConcurrentSkipListMap<>();
    private final int maxCount;
    private final long maxBytes;
    /** Topic characters plus payload and properties bytes of every retained message; guarded by this. */
    private long bytes;
    /**
     * No retained message expires before this (epoch ms; Long.MAX_VALUE: none expires); guarded by this. When the
     * bounds are reached past it, the expired ones are dropped before a new one is refused.
     */
    private long earliestExpiryMs = Long.MAX_VALUE;
    /** Told of each expired message dropped (a cluster removes it from Redis); outside the lock. */
    private volatile BiConsumer<String, Retained> onExpired = (topic, r) -> { };

    public RetainedMessages(int maxCount, long maxBytes) {
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
    }

    /** Keeps {@code payload} as {@code topic}'s retained message, or deletes it when empty (no clock: none purged). */
    public Outcome retain(String topic, byte[] payload) {
        return retain(topic, payload, null, Long.MIN_VALUE);
    }

    /** {@code listener} is told of each expired message dropped from now on (on the thread that drops it). */
    public void onExpired(BiConsumer<String, Retained> listener) {
        this.onExpired = listener;
    }

    /**
     * Keeps {@code payload} with {@code properties} (null: none) as {@code topic}'s retained message, or deletes it
     * when the payload is empty. One whose properties say it expires is dropped once it did (MQTT's Message Expiry);
     * when one would be refused for the bounds, those expired by {@code nowMs} (epoch ms) are dropped first.
     */
    public Outcome retain(String topic, byte[] payload, MessageProperties properties, long nowMs) {
        List<Map.Entry<String, Retained>> dropped = new ArrayList<>(0);
        Outcome o;
        synchronized (this) {
            o = retainWithin(topic, payload, properties);
            if (o == Outcome.FULL && nowMs >= earliestExpiryMs) {
                dropExpired(nowMs, dropped);
                o = retainWithin(topic, payload, properties);
            }
        }
        dropped.forEach(e -> onExpired.accept(e.getKey(), e.getValue()));
        return o;
    }

    private Outcome retainWithin(String topic, byte[] payload, MessageProperties properties) {
        Retained old = byTopic.get(topic);
        long oldBytes = old == null ? 0 : old.bytes(topic);
        if (payload.length == 0) {
            if (old != null) {
                byTopic.remove(topic);
                bytes -= oldBytes;
            }
            return Outcome.DELETED;
        }
        Retained kept = new Retained(payload, properties);
        long newBytes = kept.bytes(topic);
        if ((old == null && byTopic.size() >= maxCount) || bytes - oldBytes + newBytes > maxBytes) {
            return Outcome.FULL;
        }
        byTopic.put(topic, kept);
        bytes += newBytes - oldBytes;
        if (properties != null && properties.expiresAtMs() != 0) {
            earliestExpiryMs = Math.min(earliestExpiryMs, properties.expiresAtMs());
        }
        return Outcome.STORED;
    }

    /** Drops every message expired at {@code nowMs} (into {@code dropped}); finds the earliest expiry of the rest. */
    private void dropExpired(long nowMs, List<Map.Entry<String, Retained>> dropped) {
        long earliest = Long.MAX_VALUE;
        for (var i = byTopic.entrySet().iterator(); i.hasNext(); ) {
            Map.Entry<String, Retained> e = i.next();
            if (e.getValue().expired(nowMs)) {
                i.remove();
                dropped.add(Map.entry(e.getKey(), e.getValue()));
                bytes -= e.getValue().bytes(e.getKey());
            } else if (e.getValue().properties() != null && e.getValue().properties().expiresAtMs() != 0) {
                earliest = Math.min(earliest, e.getValue().properties().expiresAtMs());
            }
        }
        earliestExpiryMs = earliest;
    }

    /**
     * Calls {@code action} with each retained message whose topic {@code filter} matches and that has not expired at
     * {@code nowMs} (epoch ms); an expired one met is dropped. Returns how many retained topics it looked at (a
     * filter with a wildcard looks at every topic under its literal prefix: all of them for one starting with one),
     * so that the caller can charge the work to whoever asked.
     */
    public int forEachMatch(String filter, long nowMs, BiConsumer<String, Retained> action) {
        return forEachMatch(filter, nowMs, Long.MAX_VALUE, action);
    }

    /** As above, looking at no more than {@code maxLooks} topics (the rest is not offered). */
    public int forEachMatch(String filter, long nowMs, long maxLooks, BiConsumer<String, Retained> action) {
        if (!TopicIndex.isWildcard(filter)) {
            Retained r = byTopic.get(filter);
            if (r != null) {
                offer(filter, r, nowMs, action);
            }
            return 1;
        }
        String prefix = literalPrefix(filter);
        int looked = 0;
        for (Map.Entry<String, Retained> e : byTopic.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix) || looked >= maxLooks) {
                break; // sorted: no topic after this one starts with the prefix
            }
            looked++;
            if (TopicIndex.matches(filter, e.getKey())) {
                offer(e.getKey(), e.getValue(), nowMs, action);
            }
        }
        return looked;
    }

    private void offer(String topic, Retained r, long nowMs, BiConsumer<String, Retained> action) {
        if (!r.expired(nowMs)) {
            action.accept(topic, r);
            return;
        }
        boolean removed;
        synchronized (this) {
            removed = byTopic.remove(topic, r);
            if (removed) {
                bytes -= r.bytes(topic);
            }
        }
        if (removed) {
            onExpired.accept(topic, r);
        }
    }

    /**
     * What every topic {@code filter} (with a wildcard) matches starts with: its levels before the first wildcard,
     * without the separator after them ({@code a/b/#} also matches {@code a/b}); empty when it starts with one.
     */
    static String literalPrefix(String filter) {
        int plus = filter.indexOf('+');
        int hash = filter.indexOf('#');
        int wildcard = plus < 0 ? hash : hash < 0 ? plus : Math.min(plus, hash);
        return filter.substring(0, Math.max(0, wildcard - 1));
    }

    /** Calls {@code action} with every retained message, expired or not. */
    public void forEach(BiConsumer<String, Retained> action) {
        byTopic.forEach(action);
    }

    public int count() {
        return byTopic.size();
    }

    public synchronized long bytes() {
        return bytes;
    }
}
