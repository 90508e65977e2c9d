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
}
