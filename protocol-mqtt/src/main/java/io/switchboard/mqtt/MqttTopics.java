package io.switchboard.mqtt;

/** MQTT's rules for topic names and filters, and how a filter matches a name. Stateless. */
public final class MqttTopics {
    private MqttTopics() {
    }

    /** A topic name a PUBLISH may carry: not empty, no wildcards. */
    public static boolean validTopicName(String topic) {
        return !topic.isEmpty() && topic.indexOf('+') < 0 && topic.indexOf('#') < 0;
    }

    /** A filter: not empty; {@code #} only alone in the last level; {@code +} only alone in its level. */
    public static boolean validFilter(String filter) {
        if (filter.isEmpty()) {
            return false;
        }
        int levelStart = 0;
        for (int i = 0; i <= filter.length(); i++) {
            if (i == filter.length() || filter.charAt(i) == '/') {
                String level = filter.substring(levelStart, i);
                if (level.indexOf('#') >= 0 && (!level.equals("#") || i != filter.length())) {
                    return false;
                }
                if (level.indexOf('+') >= 0 && !level.equals("+")) {
                    return false;
                }
                levelStart = i + 1;
            }
        }
        return true;
    }

    /**
     * Whether {@code filter} matches {@code topic}: {@code +} one level, {@code #} this level and all below (also
     * the parent: {@code a/#} matches {@code a}); a topic starting with {@code $} is not matched by a filter that
     * starts with a wildcard.
     */
    public static boolean matches(String filter, String topic) {
        if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) {
            return false;
        }
        int f = 0;
        int t = 0;
        while (true) {
            int fEnd = filter.indexOf('/', f);
            String fLevel = filter.substring(f, fEnd < 0 ? filter.length() : fEnd);
            if (fLevel.equals("#")) {
                return true;
            }
            if (t > topic.length()) {
                // the topic ended: only "x/#" matching its parent "x" is left, handled above on the next level
                return false;
            }
            int tEnd = topic.indexOf('/', t);
            String tLevel = topic.substring(t, tEnd < 0 ? topic.length() : tEnd);
            if (!fLevel.equals("+") && !fLevel.equals(tLevel)) {
                return false;
            }
            if (fEnd < 0 && tEnd < 0) {
                return true;
            }
            if (fEnd < 0) {
                return false;
            }
            if (tEnd < 0) {
                // the topic has no more levels: the rest of the filter must be exactly "#"
                return filter.substring(fEnd + 1).equals("#");
            }
            f = fEnd + 1;
            t = tEnd + 1;
        }
    }
}
