package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** ApiPath cuts a path exactly as String.split("/") does, which routing relied on before it. */
class ApiPathTest {
    @Test
    void shouldCutTheApiPathsAsSplitDoes() {
        for (String path : new String[] {"/v1/clients/abc/messages", "/v1/clients/abc", "/v1/clients/abc/",
                "/v1/clients//messages", "/v1/clients/a/b/messages", "/", "//", "", "a", "/a", "a/", "/v1/topics/t/messages/",
                "/v1/clients/%2F/messages", "/v1//clients/x", "http://host/v1/clients/x"}) {
            assertSameAsSplit(path);
        }
    }

    @Test
    void shouldCutRandomPathsAsSplitDoes() {
        Random random = new Random(15);
        String alphabet = "/ab1%.";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(14);
            for (int j = 0; j < len; j++) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            assertSameAsSplit(sb.toString());
        }
    }

    @Test
    void shouldMatchOnlyWholeSegments() {
        ApiPath p = new ApiPath("/v1/clients/abc/messages");

        assertTrue(p.is(2, "clients"));
        assertFalse(p.is(2, "client"), "a prefix of the segment is not the segment");
        assertFalse(p.is(2, "clientsx"));
        assertFalse(p.is(5, "messages"), "past the last segment");
        assertEquals("abc", p.segment(3));
        assertThrows(IndexOutOfBoundsException.class, () -> p.segment(5));
    }

    private static void assertSameAsSplit(String path) {
        String[] split = path.split("/");
        ApiPath p = new ApiPath(path);
        assertEquals(split.length, p.count(), () -> "segments of '" + path + "'");
        for (int i = 0; i < Math.min(split.length, 6); i++) {
            assertEquals(split[i], p.segment(i), "segment " + i + " of '" + path + "'");
            assertTrue(p.is(i, split[i]), "segment " + i + " of '" + path + "'");
            assertFalse(p.is(i, split[i] + "x"));
        }
        assertFalse(p.is(split.length, ""), "no segment past the last of '" + path + "'");
    }
}
