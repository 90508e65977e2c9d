package io.switchboard.session;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Which sessions of one shard subscribe to which topic filters. A filter is either an exact topic (a hash lookup
 * per publish) or an MQTT wildcard filter ({@code +} for one level, {@code #} for the rest, levels separated by
 * {@code /}), matched by a scan of the wildcard filters only. SWB/1 topics cannot contain wildcards; MQTT's can.
 *
 * <p>Owned by the shard's event loop; not thread-safe. Subscribing and unsubscribing are O(1) per filter.
 */
public final class TopicIndex {
    private final Map<String, Set<Session>> exact = new HashMap<>();
    private final Map<String, Set<Session>> wildcards = new HashMap<>();

    /** Adds {@code s} as a subscriber of {@code filter}; returns false when it already was one. */
    public boolean add(String filter, Session s) {
        return (isWildcard(filter) ? wildcards : exact).computeIfAbsent(filter, f -> new LinkedHashSet<>()).add(s);
    }

    /** Removes {@code s} from {@code filter}'s subscribers; returns false when it was not one. */
    public boolean remove(String filter, Session s) {
        Map<String, Set<Session>> map = isWildcard(filter) ? wildcards : exact;
        Set<Session> subs = map.get(filter);
        if (subs == null || !subs.remove(s)) {
            return false;
        }
        if (subs.isEmpty()) {
            map.remove(filter);
        }
        return true;
    }

    /**
     * Calls {@code action} for each subscription whose filter matches {@code topic}: a session subscribed through
     * several matching filters is called once per filter (as MQTT 3.1.1 allows).
     */
    public void forEachMatch(String topic, Consumer<Session> action) {
        Set<Session> subs = exact.get(topic);
        if (subs != null) {
            forEachOf(subs, action);
        }
        if (!wildcards.isEmpty()) {
            for (Map.Entry<String, Set<Session>> e : wildcards.entrySet()) {
                if (matches(e.getKey(), topic)) {
                    forEachOf(e.getValue(), action);
                }
            }
        }
    }

    /** Distinct filters with at least one subscriber. */
    public int filterCount() {
        return exact.size() + wildcards.size();
    }

    private static void forEachOf(Set<Session> subs, Consumer<Session> action) {
        // A copy when the action might unsubscribe (a push that closes a connection): cheap next to the pushes.
        List<Session> copy = new ArrayList<>(subs);
        for (Session s : copy) {
            action.accept(s);
        }
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
