package io.switchboard.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.swb.SwbIds;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NamesTest {
    @Test
    void shouldAcceptTheCoreCharactersUpTo128() {
        assertTrue(Names.isValidClientId("alice"));
        assertTrue(Names.isValidClientId("dev-01.eu:7@x_y"));
        assertTrue(Names.isValidTopic("a".repeat(128)));
        assertFalse(Names.isValidTopic("a".repeat(129)));
        assertFalse(Names.isValidClientId(""));
        assertFalse(Names.isValidClientId(null));
        assertFalse(Names.isValidClientId("a b"));
        assertTrue(Names.isValidTopic("news/eu"), "topics have levels (MQTT's)");
        assertFalse(Names.isValidClientId("news/eu"));
        assertFalse(Names.isValidTopic("news/+"), "a filter, not a topic");
        assertFalse(Names.isValidClientId("é"));
        assertFalse(Names.isValidClientId("."), "a path segment of its own in the API");
        assertFalse(Names.isValidClientId(".."));
        assertTrue(Names.isValidClientId("..."));
        assertTrue(Names.isValidClientId(".a"));
        for (String s : new String[] {".", "..", "...", ".a", "a."}) {
            assertEquals(SwbIds.isValid(s), Names.isValidClientId(s), s);
        }
    }

    /** SWB/1 carries exactly the names the core accepts: a client the API can reach can always say HELLO. */
    @Test
    void shouldAgreeWithTheSwbWireSyntax() {
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(131);
            for (int j = 0; j < n; j++) {
                sb.append((char) random.nextInt(i % 2 == 0 ? 128 : 0x250));
            }
            String s = sb.toString();
            assertEquals(SwbIds.isValid(s), Names.isValidClientId(s), s);
        }
        for (char c = 0; c < 256; c++) {
            // Topics are SWB/1's names plus '/' between levels (MQTT's topics; SWB/1 SUB carries those without).
            assertEquals(SwbIds.isValid(String.valueOf(c)) || c == '/', Names.isValidTopic(String.valueOf(c)),
                    "char " + (int) c);
        }
    }
}
