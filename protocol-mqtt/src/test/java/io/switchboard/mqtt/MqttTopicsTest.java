package io.switchboard.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Topic names, filters and matching as MQTT 5 section 4.7 (and its examples) has them. */
class MqttTopicsTest {
    @Test
    void matchesAsTheSpecificationsExamplesSay() {
        String[][] yes = {{"sport/#", "sport"}, {"sport/#", "sport/tennis/player1"}, {"sport/tennis/#",
            "sport/tennis/player1/ranking"}, {"#", "a/b"}, {"#", "/"}, {"+/+", "/finance"}, {"/+", "/finance"},
            {"a/+/c", "a/b/c"}, {"a/+/c", "a//c"}, {"+", "x"}, {"a/b", "a/b"}, {"$SYS/#", "$SYS/x"}, {"$SYS/#", "$SYS"},
            {"$SYS/+", "$SYS/x"}, {"sport/+", "sport/"}, {"+/tennis/#", "sport/tennis"}, {"a/#", "a/"}, {"ü/+", "ü/€"}};
        String[][] no = {{"sport/+", "sport"}, {"sport/tennis/#", "sport"}, {"+", "/finance"}, {"#", "$SYS/x"},
            {"+/x", "$SYS/x"}, {"+", "$SYS"}, {"a/b", "a/b/c"}, {"a/+", "a/b/c"}, {"a/b/c", "a/b"}, {"a/b", "A/b"},
            {"a", "a/"}, {"a/", "a"}, {"sport/tennis/#", "sport/tennisX/p"}, {"ab/#", "a"}};
        for (String[] c : yes) {
            assertTrue(MqttTopics.matches(c[0], c[1]), c[0] + " matches " + c[1]);
        }
        for (String[] c : no) {
            assertFalse(MqttTopics.matches(c[0], c[1]), c[0] + " does not match " + c[1]);
        }
    }

    @Test
    void validFiltersAndNames() {
        for (String f : List.of("#", "a/#", "+", "+/+", "a/+/b", "/", "a//b", "+/#", "/#", "$share/g/#", "€")) {
            assertTrue(MqttTopics.validFilter(f), f);
        }
        for (String f : List.of("", "a/#/b", "a#", "a+", "+a/b", "#/", "##", "++", "a/b+", "a\u0000")) {
            assertFalse(MqttTopics.validFilter(f), f);
        }
        for (String t : List.of("a", "/", "a//b", "$SYS/x", "ü/€", " ")) {
            assertTrue(MqttTopics.validTopicName(t), t);
        }
        for (String t : List.of("", "a/+", "#", "a/b#", "\u0000")) {
            assertFalse(MqttTopics.validTopicName(t), t);
        }
    }

    /** Against a plain reading of the rules (split into levels, compare level by level), on random filters. */
    @Test
    void matchesAgreesWithAPlainReadingOfTheRules() {
        Random random = new Random(11);
        String[] levels = {"", "a", "b", "$x", "+", "#"};
        int matched = 0;
        for (int i = 0; i < 100_000; i++) {
            String filter = join(random, levels, true);
            String topic = join(random, new String[] {"", "a", "b", "$x"}, false);
            if (!MqttTopics.validFilter(filter)) {
                continue;
            }
            boolean expected = reference(filter, topic);
            assertEquals(expected, MqttTopics.matches(filter, topic), filter + " on " + topic);
            matched += expected ? 1 : 0;
        }
        assertTrue(matched > 1000, "both outcomes are exercised: " + matched);
    }

    private static String join(Random random, String[] levels, boolean filter) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append('/');
            }
            sb.append(levels[random.nextInt(levels.length)]);
        }
        return sb.isEmpty() && !filter ? "a" : sb.toString();
    }

    private static boolean reference(String filter, String topic) {
        if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) {
            return false;
        }
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                return true; // this level and all below, also none: "a/#" matches "a"
            }
            if (i >= t.length || (!f[i].equals("+") && !f[i].equals(t[i]))) {
                return false;
            }
        }
        return f.length == t.length;
    }
}
