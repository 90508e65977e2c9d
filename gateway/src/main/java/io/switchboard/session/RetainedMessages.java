package io.switchboard.session;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiConsumer;

/**
 * Retained messages in MQTT's meaning: the last message published to a topic with the retain flag, kept and given to
 * every new subscription whose filter matches the topic (an empty payload deletes it). Published by MQTT clients and
 * by the API ({@code POST /v1/topics/{topic}/messages?retain=true}); read by MQTT subscriptions. Bounded by a count
 * and by bytes (topic plus payload): a new topic beyond either is refused, a replacement that grows past the byte
 * bound too. In memory only: a restart forgets them.
 *
 * <p>Thread-safe: any loop and the API write and read it. Topics are kept sorted, so a filter with wildcards is
 * matched only against the topics that start with its levels before the first wildcard ({@code fleet/dev-42/#} looks
 * at {@code fleet/dev-42...}, not at the whole fleet); a filter that starts with a wildcard looks at every retained
 * topic (at most {@code maxCount}); a filter without one is a single lookup.
 */
public final class RetainedMessages {
    /** What {@link #retain} did. */
    public enum Outcome { STORED, DELETED, FULL }

    private final ConcurrentSkipListMap<String, byte[]> byTopic = new ConcurrentSkipListMap<>();
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
        String prefix = literalPrefix(filter);
        for (Map.Entry<String, byte[]> e : byTopic.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break; // sorted: no topic after this one starts with the prefix
            }
            if (TopicIndex.matches(filter, e.getKey())) {
                action.accept(e.getKey(), e.getValue());
            }
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
