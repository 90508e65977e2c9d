package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
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
}
