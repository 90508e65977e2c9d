package io.switchboard.session;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Which sessions of one shard subscribe to which topic filters. A filter is either an exact topic (a hash lookup
 * per publish) or an MQTT wildcard filter ({@code +} for one level, {@code #} for the rest, levels separated by
 * {@code /}), matched by a scan of the wildcard filters only. SWB/1 topics cannot contain wildcards; MQTT's can.
 *
 * <p>Owned by the shard's event loop; not thread-safe. Subscribing and unsubscribing are O(1) per filter; a filter
 * with one subscriber costs one map entry.
 */
public final class TopicIndex {
    /**
     * Per filter: the one subscribing {@link Session} itself (the common case of a per-client topic costs one map
     * entry), or a {@code HashSet<Session>} once there are several.
     */
    private final Map<String, Object> exact = new HashMap<>();
    private final Map<String, Object> wildcards = new HashMap<>();
    /** Told when a filter gets its first subscriber here, and when it loses its last. */
    private final Interest interest;

    /** Hears which filters this index has subscribers for (a cluster tells the other nodes). */
    @FunctionalInterface
    public interface Interest {
        Interest NONE = (filter, wildcard, added) -> { };

        void changed(String filter, boolean wildcard, boolean added);
    }

    public TopicIndex() {
        this(Interest.NONE);
    }

    public TopicIndex(Interest interest) {
        this.interest = interest;
    }

    /** Adds {@code s} as a subscriber of {@code filter}; returns false when it already was one. */
    public boolean add(String filter, Session s) {
        Map<String, Object> map = isWildcard(filter) ? wildcards : exact;
        Object subs = map.get(filter);
        if (subs == null) {
            map.put(filter, s);
            interest.changed(filter, map == wildcards, true);
            return true;
        }
        if (subs == s) {
            return false;
        }
        if (subs instanceof Session one) {
            Set<Session> set = new HashSet<>(4);
            set.add(one);
            set.add(s);
            map.put(filter, set);
            return true;
        }
        return asSet(subs).add(s);
    }

    /** Removes {@code s} from {@code filter}'s subscribers; returns false when it was not one. */
    public boolean remove(String filter, Session s) {
        Map<String, Object> map = isWildcard(filter) ? wildcards : exact;
        Object subs = map.get(filter);
        if (subs == s) {
            map.remove(filter);
            interest.changed(filter, map == wildcards, false);
            return true;
        }
        if (!(subs instanceof Set<?>) || !asSet(subs).remove(s)) {
            return false;
        }
        Set<Session> set = asSet(subs);
        if (set.size() == 1) {
            map.put(filter, set.iterator().next());
        }
        return true;
    }

    /**
     * Calls {@code action} with the filter and the session of each subscription whose filter matches
     * {@code topic}: a session subscribed through
     * several matching filters is called once per filter (as MQTT 3.1.1 allows). Iterates in place, allocating
     * nothing: {@code action} must not subscribe or unsubscribe (a connection that fails while being written to
     * detaches from its session later, in its own close task).
     */
    public void forEachMatch(String topic, BiConsumer<String, Session> action) {
        forEachOf(topic, exact.get(topic), action);
        if (!wildcards.isEmpty()) {
            for (Map.Entry<String, Object> e : wildcards.entrySet()) {
                if (matches(e.getKey(), topic)) {
                    forEachOf(e.getKey(), e.getValue(), action);
                }
            }
        }
    }

    /** Distinct filters with at least one subscriber. */
    public int filterCount() {
        return exact.size() + wildcards.size();
    }

    private static void forEachOf(String filter, Object subs, BiConsumer<String, Session> action) {
        if (subs instanceof Session one) {
            action.accept(filter, one);
        } else if (subs != null) {
            for (Session s : asSet(subs)) {
                action.accept(filter, s);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Set<Session> asSet(Object subs) {
        return (Set<Session>) subs;
    }

    static boolean isWildcard(String filter) {
        return filter.indexOf('+') >= 0 || filter.indexOf('#') >= 0;
    }

    /**
     * MQTT matching: {@code +} matches exactly one level, {@code #} (last) matches the parent level and any number
     * of levels below; a wildcard at the first level does not match a topic starting with {@code $}.
     */
    static boolean matches(String filter, String topic) {
        if (!topic.isEmpty() && topic.charAt(0) == '$' && !filter.isEmpty()
                && (filter.charAt(0) == '+' || filter.charAt(0) == '#')) {
            return false;
        }
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                return true;
            }
            if (i >= t.length || (!f[i].equals("+") && !f[i].equals(t[i]))) {
                return false;
            }
        }
        return f.length == t.length;
    }
}
