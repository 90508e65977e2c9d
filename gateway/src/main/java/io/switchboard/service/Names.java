package io.switchboard.service;

/**
 * The session core's rules for client ids and topics, whatever protocol or edge they arrive through (the backend
 * API, SWB/1, later MQTT): 1 to 128 characters of {@code [A-Za-z0-9._:@-]}, but not {@code .} or {@code ..} (path
 * segments in the API). A protocol may carry fewer (its own
 * syntax) but the core accepts no other. Stateless.
 */
public final class Names {
    /** The longest client id or topic. */
    public static final int MAX_LENGTH = 128;
    /** The rule in words, for error messages. */
    public static final String RULE = "1-" + MAX_LENGTH + " characters of [A-Za-z0-9._:@-]";
    private static final String PUNCTUATION = "._:@-";

    private Names() {
    }

    public static boolean isValidClientId(CharSequence id) {
        return isName(id);
    }

    /**
     * A topic name: as a client id, and {@code /} may separate its levels (MQTT's topic names; in the API's path it
     * is written {@code %2F}).
     */
    public static boolean isValidTopic(CharSequence topic) {
        return isName(topic, "/");
    }

    /**
     * A topic filter: a topic whose levels may also be the wildcards {@code +} and {@code #} (their placement is
     * the protocol's to check, as MQTT's codec does).
     */
    public static boolean isValidTopicFilter(CharSequence filter) {
        return isName(filter, "/+#");
    }

    /** The topic rule in words, for error messages. */
    public static final String TOPIC_RULE = RULE + " and /";

    private static boolean isName(CharSequence s) {
        return isName(s, "");
    }

    private static boolean isName(CharSequence s, String alsoAllowed) {
        if (s == null || s.isEmpty() || s.length() > MAX_LENGTH || ".".contentEquals(s) || "..".contentEquals(s)) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || PUNCTUATION.indexOf(c) >= 0 || alsoAllowed.indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
