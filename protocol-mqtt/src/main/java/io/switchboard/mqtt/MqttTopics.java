package io.switchboard.mqtt;

/**
 * MQTT's rules for topic names and filters (MQTT 5 section 4.7, the same in 3.1.1), and how a filter matches a name:
 * levels are separated by {@code /} and may be empty; {@code +} matches one level, {@code #} the level it stands for
 * and all below. Allocates nothing. Stateless.
 */
public final class MqttTopics {
    private MqttTopics() {
    }

    /** A topic name a PUBLISH (or a will) may carry: not empty, no wildcard, no U+0000. */
    public static boolean validTopicName(String topic) {
        if (topic.isEmpty()) {
            return false;
        }
        for (int i = 0; i < topic.length(); i++) {
            char c = topic.charAt(i);
            if (c == '+' || c == '#' || c == 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * A topic filter: not empty, no U+0000; {@code #} only alone in the last level, {@code +} only alone in its level.
     * A shared subscription ({@code $share/name/filter}) passes when it is valid as a filter.
     */
    public static boolean validFilter(String filter) {
        int n = filter.length();
        if (n == 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = filter.charAt(i);
            if (c == 0) {
                return false;
            }
            if (c == '#' || c == '+') {
                boolean aloneBefore = i == 0 || filter.charAt(i - 1) == '/';
                boolean aloneAfter = i == n - 1 || filter.charAt(i + 1) == '/';
                if (!aloneBefore || !aloneAfter || (c == '#' && i != n - 1)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Whether {@code filter} (a valid filter) matches {@code topic} (a valid topic name): {@code +} matches one level,
     * {@code #} this level and all below, and also the parent ({@code sport/#} matches {@code sport}); a topic that
     * starts with {@code $} is not matched by a filter that starts with a wildcard ({@code #} does not match
     * {@code $SYS/x}).
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

    private static int levelEnd(String s, int from) {
        int slash = s.indexOf('/', from);
        return slash < 0 ? s.length() : slash;
    }
}
