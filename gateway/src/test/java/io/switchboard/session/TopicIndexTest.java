package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TopicIndexTest {
    private static Session session(String id) {
        return new Session(id, null, Session.OFFLINE, 0, 0);
    }

    @Test
    void shouldMatchExactTopicsAndMqttWildcards() {
        assertTrue(TopicIndex.matches("a/b", "a/b"));
        assertFalse(TopicIndex.matches("a/b", "a/c"));
        assertTrue(TopicIndex.matches("a/+", "a/b"));
        assertFalse(TopicIndex.matches("a/+", "a/b/c"));
        assertFalse(TopicIndex.matches("a/+", "a"));
        assertTrue(TopicIndex.matches("a/+/c", "a/b/c"));
        assertTrue(TopicIndex.matches("a/#", "a"), "# matches the parent level too");
        assertTrue(TopicIndex.matches("a/#", "a/b/c"));
        assertTrue(TopicIndex.matches("#", "a/b"));
        assertTrue(TopicIndex.matches("+/+", "/x"), "an empty level is a level");
        assertTrue(TopicIndex.matches("a/", "a/"));
        assertFalse(TopicIndex.matches("a/", "a"));
        assertFalse(TopicIndex.matches("#", "$SYS/x"), "wildcards at the first level skip $ topics");
        assertFalse(TopicIndex.matches("+/x", "$SYS/x"));
        assertTrue(TopicIndex.matches("$SYS/#", "$SYS/x"));
    }

    @Test
    void shouldFindSubscribersOfExactAndWildcardFiltersAndForgetThemOnRemove() {
        TopicIndex index = new TopicIndex();
        Session a = session("a");
        Session b = session("b");
        assertTrue(index.add("news", a));
        assertFalse(index.add("news", a), "twice is once");
        assertTrue(index.add("sport/+", b));
        assertTrue(index.add("#", a));
        assertEquals(List.of("a", "a"), matches(index, "news"), "one call per matching filter");
        assertEquals(List.of("b", "a"), matches(index, "sport/tennis").stream().sorted().toList().reversed());
        assertEquals(3, index.filterCount());

        assertTrue(index.remove("#", a));
        assertFalse(index.remove("#", a));
        assertTrue(index.remove("news", a));
        assertEquals(List.of(), matches(index, "news"));
        assertEquals(1, index.filterCount(), "empty filters are dropped");
    }

    @Test
    void shouldGrowFromOneSubscriberToManyAndShrinkBack() {
        TopicIndex index = new TopicIndex();
        List<Session> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Session s = session("s" + i);
            all.add(s);
            assertTrue(index.add("news", s));
        }
        assertEquals(100, matches(index, "news").size());
        for (int i = 0; i < 99; i++) {
            assertTrue(index.remove("news", all.get(i)));
        }
        assertEquals(List.of("s99"), matches(index, "news"));
        assertFalse(index.remove("news", all.get(0)), "gone already");
        assertFalse(index.add("news", all.get(99)), "still there");
        assertTrue(index.remove("news", all.get(99)));
        assertEquals(0, index.filterCount());
        assertEquals(List.of(), matches(index, "news"));
    }

    private static List<String> matches(TopicIndex index, String topic) {
        List<String> ids = new ArrayList<>();
        index.forEachMatch(topic, (filter, s) -> ids.add(s.id()));
        return ids;
    }

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
            assertTrue(TopicIndex.matches(c[0], c[1]), c[0] + " matches " + c[1]);
        }
        for (String[] c : no) {
            assertFalse(TopicIndex.matches(c[0], c[1]), c[0] + " does not match " + c[1]);
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
            if (!io.switchboard.mqtt.MqttTopics.validFilter(filter)) {
                continue;
            }
            boolean expected = reference(filter, topic);
            assertEquals(expected, TopicIndex.matches(filter, topic), filter + " on " + topic);
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

    /**
     * The index finds, for any topic, exactly the filters {@link TopicIndex#matches} says match, while random
     * wildcard and exact filters come and go (against a scan of every filter).
     */
    @Test
    void shouldFindExactlyTheMatchingFiltersWhileFiltersComeAndGo() {
        Random random = new Random(7);
        String[] levels = {"", "a", "b", "$x", "+", "#"};
        TopicIndex index = new TopicIndex();
        java.util.Map<String, Session> subscribed = new java.util.HashMap<>();
        int found = 0;
        for (int i = 0; i < 20_000; i++) {
            String filter = join(random, levels, true);
            if (!io.switchboard.mqtt.MqttTopics.validFilter(filter)) {
                continue;
            }
            if (subscribed.containsKey(filter) && random.nextBoolean()) {
                assertTrue(index.remove(filter, subscribed.remove(filter)), filter);
            } else if (!subscribed.containsKey(filter)) {
                Session s = session("s" + i);
                subscribed.put(filter, s);
                assertTrue(index.add(filter, s), filter);
            }
            String topic = join(random, new String[] {"", "a", "b", "$x"}, false);
            java.util.Set<String> expected = new java.util.TreeSet<>();
            subscribed.keySet().forEach(f -> {
                if (TopicIndex.matches(f, topic)) {
                    expected.add(f);
                }
            });
            java.util.Set<String> got = new java.util.TreeSet<>();
            index.forEachMatch(topic, (f, s) -> assertTrue(got.add(f), "once per filter: " + f));
            assertEquals(expected, got, topic);
            found += got.size();
        }
        assertTrue(found > 10_000, "matches are exercised: " + found);
        for (var e : new ArrayList<>(subscribed.entrySet())) {
            assertTrue(index.remove(e.getKey(), e.getValue()));
        }
        assertEquals(0, index.filterCount());
        assertEquals(1, index.treeLevels(), "every emptied level pruned: the root alone is left");
        List<String> left = new ArrayList<>();
        index.forEachMatch("a/b", (f, s) -> left.add(f));
        assertEquals(List.of(), left);
    }
}
