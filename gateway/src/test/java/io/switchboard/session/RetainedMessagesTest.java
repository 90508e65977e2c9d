package io.switchboard.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class RetainedMessagesTest {
    /** Levels whose topics sort between and around each other's ({@code a.b} before {@code a/}, {@code a0} after). */
    private static final String[] LEVELS = {"a", "ab", "b", "", "$SYS", "a.b", "a0", "x"};

    private static List<String> matches(RetainedMessages retained, String filter) {
        List<String> got = new ArrayList<>();
        retained.forEachMatch(filter, 0, (topic, r) -> {
            assertEquals(topic, new String(r.payload(), StandardCharsets.UTF_8), "the payload retained for the topic");
            got.add(topic);
        });
        got.sort(null);
        return got;
    }

    private static MessageProperties expiringAt(long ms) {
        return new MessageProperties(List.of("k", "v"), "text/plain", null, null, 1, ms);
    }

    @Test
    void aLookThroughTheTopicsSaysHowManyItLookedAtAndStopsAtItsLimit() {
        RetainedMessages retained = new RetainedMessages(1_000, 1 << 20);
        for (int i = 0; i < 100; i++) {
            retained.retain("s/" + i, new byte[] {1});
        }
        retained.retain("t/1", new byte[] {1});
        assertEquals(101, retained.forEachMatch("+/zz", 0, (t, r) -> { }), "a filter starting with + looks at all");
        assertEquals(100, retained.forEachMatch("s/#", 0, (t, r) -> { }), "one with a prefix at those under it");
        assertEquals(1, retained.forEachMatch("t/1", 0, (t, r) -> { }), "no wildcard: the one");
        List<String> got = new ArrayList<>();
        assertEquals(10, retained.forEachMatch("s/#", 0, 10, (t, r) -> got.add(t)));
        assertEquals(10, got.size(), "no more than the limit looked at, nor offered");
    }

    @Test
    void anExpiredRetainedMessageIsNotHandedOutAndIsDroppedWithItsBytes() {
        RetainedMessages retained = new RetainedMessages(10, 1 << 20);
        retained.retain("a/x", new byte[] {1}, expiringAt(5_000), 1_000);
        retained.retain("a/y", new byte[] {2}, null, 1_000);
        long keptBytes = retained.bytes();
        List<String> seen = new ArrayList<>();
        retained.forEachMatch("a/#", 4_999, (t, r) -> seen.add(t + r.properties()));
        assertEquals(2, seen.size(), "both before the expiry");
        seen.clear();
        retained.forEachMatch("a/#", 5_000, (t, r) -> seen.add(t));
        assertEquals(List.of("a/y"), seen, "the expired one is not handed out");
        assertEquals(1, retained.count(), "and dropped when met");
        assertEquals(keptBytes - ("a/x".length() + 1 + expiringAt(5_000).bytes()), retained.bytes());
        retained.forEachMatch("a/y", 9_999_999, (t, r) -> seen.add(t));
        assertEquals(List.of("a/y", "a/y"), seen, "one without an expiry never expires");
    }

    @Test
    void whenFullTheExpiredOnesAreDroppedBeforeANewTopicIsRefused() {
        RetainedMessages retained = new RetainedMessages(2, 1 << 20);
        assertEquals(RetainedMessages.Outcome.STORED, retained.retain("a", new byte[] {1}, expiringAt(5_000), 0));
        assertEquals(RetainedMessages.Outcome.STORED, retained.retain("b", new byte[] {1}, expiringAt(9_000), 0));
        assertEquals(RetainedMessages.Outcome.FULL, retained.retain("c", new byte[] {1}, null, 4_999),
                "full while none expired");
        assertEquals(RetainedMessages.Outcome.STORED, retained.retain("c", new byte[] {1}, null, 5_000),
                "a expired: its place is taken");
        assertEquals(RetainedMessages.Outcome.FULL, retained.retain("d", new byte[] {1}, null, 8_999));
        assertEquals(RetainedMessages.Outcome.STORED, retained.retain("d", new byte[] {1}, null, 9_000));
        List<String> seen = new ArrayList<>();
        retained.forEachMatch("#", 9_000, (t, r) -> seen.add(t));
        assertEquals(List.of("c", "d"), seen);
    }

    @Test
    void aWildcardFilterFindsEveryRetainedTopicItMatchesAndNoOther() {
        RetainedMessages retained = new RetainedMessages(10_000, 1 << 20);
        for (String t : List.of("a", "a/b", "ab/c", "a/", "/a", "a//b", "$SYS/a", "a/$SYS", "ab", "b/a/c", "a/b/c/d",
                "a.b/c", "a0/b")) {
            retained.retain(t, t.getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(List.of("a", "a/", "a/$SYS", "a//b", "a/b", "a/b/c/d"), matches(retained, "a/#"),
                "a/# matches a itself, not ab, a.b/c or a0/b");
        assertEquals(List.of("a/", "a/$SYS", "a/b"), matches(retained, "a/+"));
        assertEquals(List.of("a/b/c/d"), matches(retained, "a/b/+/#"));
        assertEquals(List.of("/a", "a.b/c", "a/", "a/$SYS", "a/b", "a0/b", "ab/c"), matches(retained, "+/+"),
                "a wildcard first level skips $ topics");
        assertEquals(List.of("$SYS/a"), matches(retained, "$SYS/#"));
        assertEquals(List.of("a/b"), matches(retained, "a/b"));
        assertEquals(List.of(), matches(retained, "c/#"));
    }

    @Test
    void wildcardMatchesAgreeWithTheMatchingRuleOverRandomTopicsAndFilters() {
        Random random = new Random(7);
        for (int round = 0; round < 200; round++) {
            RetainedMessages retained = new RetainedMessages(10_000, 1 << 20);
            TreeSet<String> topics = new TreeSet<>();
            for (int i = 0; i < 40; i++) {
                String t = randomLevels(random, false);
                topics.add(t);
                retained.retain(t, t.getBytes(StandardCharsets.UTF_8));
            }
            for (int i = 0; i < 40; i++) {
                String filter = randomLevels(random, true);
                List<String> expected = topics.stream().filter(t -> TopicIndex.matches(filter, t)).toList();
                assertEquals(expected, matches(retained, filter), "filter " + filter + " over " + topics);
            }
        }
    }

    /** 1 to 4 levels; a filter has a + or # (the last level) at random places. */
    private static String randomLevels(Random random, boolean filter) {
        int n = 1 + random.nextInt(4);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                b.append('/');
            }
            int r = random.nextInt(10);
            if (filter && r == 0) {
                b.append('+');
            } else if (filter && r == 1) {
                return b.append('#').toString();
            } else {
                b.append(LEVELS[random.nextInt(LEVELS.length)]);
            }
        }
        if (filter && b.indexOf("+") < 0 && b.indexOf("#") < 0) {
            b.append("/#");
        }
        return b.isEmpty() ? "x" : b.toString(); // a topic has at least one character
    }
}
