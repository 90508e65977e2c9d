package io.switchboard.session;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Which sessions of one shard subscribe to which topic filters. A filter is either an exact topic (a hash lookup
 * per publish) or an MQTT wildcard filter ({@code +} for one level, {@code #} for the rest, levels separated by
 * {@code /}), found through a tree of the wildcard filters' levels: a publish visits only the branches its topic's
 * levels lead to (one per level, and a {@code +} branch), not every wildcard filter (a fleet subscribing
 * {@code cmd/<device>/#} each made every publish scan them all). SWB/1 topics cannot contain wildcards; MQTT's can.
 *
 * <p>Owned by the shard's event loop; not thread-safe. Subscribing and unsubscribing are O(levels) per filter; a
 * filter with one subscriber costs one map entry (and a wildcard one its levels in the tree).
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
            if (map == wildcards) {
                tree.add(filter);
            }
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
            if (map == wildcards) {
                tree.remove(filter, 0);
            }
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
     * several matching filters is called once per filter (as MQTT 3.1.1 allows). Iterates in place (allocating
     * only a level's text per literal branch of the wildcard tree it looks up): {@code action} must not subscribe or
     * unsubscribe (a connection that fails while being written to detaches from its session later, in its own
     * close task).
     */
    public void forEachMatch(String topic, BiConsumer<String, Session> action) {
        forEachOf(topic, exact.get(topic), action);
        if (!wildcards.isEmpty()) {
            boolean dollar = !topic.isEmpty() && topic.charAt(0) == '$';
            tree.match(topic, 0, true, dollar, wildcards, action);
        }
    }

    /** The wildcard filters, level by level. */
    private final Level tree = new Level();

    /** One level of the wildcard filters' tree: the path from the root is the levels before it. */
    private static final class Level {
        /** The next level, by its literal text; null while none. */
        private HashMap<String, Level> children;
        /** The next level when it is {@code +}. */
        private Level plus;
        /** The filter that ends here (its last level is this one), or null. */
        private String filter;
        /** The filter that ends with {@code #} right below here (this level and all below, and this one), or null. */
        private String hash;

        void add(String f) {
            Level at = this;
            int pos = 0;
            while (true) {
                int end = levelEnd(f, pos);
                if (end - pos == 1 && f.charAt(pos) == '#') {
                    at.hash = f; // a valid filter has # last
                    return;
                }
                Level next;
                if (end - pos == 1 && f.charAt(pos) == '+') {
                    next = at.plus == null ? at.plus = new Level() : at.plus;
                } else {
                    if (at.children == null) {
                        at.children = new HashMap<>(4);
                    }
                    next = at.children.computeIfAbsent(f.substring(pos, end), k -> new Level());
                }
                at = next;
                if (end == f.length()) {
                    at.filter = f;
                    return;
                }
                pos = end + 1;
            }
        }

        /** Takes {@code f} (its levels from {@code pos} on are below this one) out; true when this level is empty. */
        boolean remove(String f, int pos) {
            int end = levelEnd(f, pos);
            if (end - pos == 1 && f.charAt(pos) == '#') {
                hash = null;
            } else if (end - pos == 1 && f.charAt(pos) == '+') {
                if (plus != null && (end == f.length() ? plus.clearFilter() : plus.remove(f, end + 1))) {
                    plus = null;
                }
            } else if (children != null) {
                String level = f.substring(pos, end);
                Level child = children.get(level);
                if (child != null && (end == f.length() ? child.clearFilter() : child.remove(f, end + 1))) {
                    children.remove(level);
                    if (children.isEmpty()) {
                        children = null;
                    }
                }
            }
            return isEmpty();
        }

        private boolean clearFilter() {
            filter = null;
            return isEmpty();
        }

        int count() {
            int n = 1 + (plus == null ? 0 : plus.count());
            if (children != null) {
                for (Level c : children.values()) {
                    n += c.count();
                }
            }
            return n;
        }

        private boolean isEmpty() {
            return filter == null && hash == null && plus == null && children == null;
        }

        /**
         * Calls {@code action} with the subscribers ({@code subs}) of each filter below this level that matches
         * {@code topic} from {@code pos} on (-1: every level of the topic was matched above); wildcards at the first
         * level skip a topic starting with $.
         */
        void match(String topic, int pos, boolean first, boolean dollar, Map<String, Object> subs,
                   BiConsumer<String, Session> action) {
            boolean wildcardsHere = !(first && dollar);
            if (hash != null && wildcardsHere) {
                forEachOf(hash, subs.get(hash), action);
            }
            if (pos < 0) {
                if (filter != null) {
                    forEachOf(filter, subs.get(filter), action);
                }
                return;
            }
            int end = levelEnd(topic, pos);
            int next = end == topic.length() ? -1 : end + 1;
            if (children != null) {
                Level child = children.get(topic.substring(pos, end));
                if (child != null) {
                    child.match(topic, next, false, dollar, subs, action);
                }
            }
            if (plus != null && wildcardsHere) {
                plus.match(topic, next, false, dollar, subs, action);
            }
        }
    }

    private static int levelEnd(String s, int from) {
        int slash = s.indexOf('/', from);
        return slash < 0 ? s.length() : slash;
    }

    /** Levels in the wildcard filters' tree, its root included (for tests: emptied levels are pruned). */
    int treeLevels() {
        return tree.count();
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
     * MQTT matching of a valid {@code filter} against a topic name, without allocating: {@code +} matches exactly
     * one level, {@code #} (last) this level and all below, and also the parent ({@code sport/#} matches
     * {@code sport}); a wildcard at the first level does not match a topic starting with {@code $}.
     */
    public static boolean matches(String filter, String topic) {
        int fl = filter.length();
        int tl = topic.length();
        if (tl > 0 && topic.charAt(0) == '$' && fl > 0 && (filter.charAt(0) == '+' || filter.charAt(0) == '#')) {
            return false;
        }
        int f = 0;
        int t = 0;
        while (true) {
            int fEnd = levelEnd(filter, f);
            if (fEnd - f == 1 && filter.charAt(f) == '#') {
                return true;
            }
            int tEnd = levelEnd(topic, t);
            boolean plus = fEnd - f == 1 && filter.charAt(f) == '+';
            if (!plus && (fEnd - f != tEnd - t || !filter.regionMatches(f, topic, t, fEnd - f))) {
                return false;
            }
            if (fEnd == fl || tEnd == tl) {
                // One has no more levels: a match if neither has, or if all the filter has left is "/#".
                return (fEnd == fl && tEnd == tl)
                        || (tEnd == tl && fl - fEnd == 2 && filter.charAt(fl - 1) == '#');
            }
            f = fEnd + 1;
            t = tEnd + 1;
        }
    }
}
