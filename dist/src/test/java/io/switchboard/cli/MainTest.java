package io.switchboard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The switchboard root command: a mistyped subcommand or option gets a suggestion and exit code 2. */
class MainTest {
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Main.newCommandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        return cl.execute(args);
    }

    @Test
    void shouldSuggestTheNearestSubcommand() {
        assertEquals(2, run("serve"));
        assertTrue(err.toString().contains("Did you mean server?"), err.toString());
        assertTrue(err.toString().contains("Run 'switchboard --help' for the options."), err.toString());
    }

    @Test
    void shouldSuggestTheNearestOptionOfASubcommand() {
        assertEquals(2, run("client", "--id", "a", "--verbos"));
        assertTrue(err.toString().contains("Did you mean --verbose"), err.toString());
    }

    @Test
    void shouldSuggestNothingWhenNothingIsNear() {
        assertEquals(2, run("zzzzzzzzzz"));
        assertFalse(err.toString().contains("Did you mean"), err.toString());
    }

    @Test
    void shouldTurnNettysFlightRecorderEventsOffUnlessAskedFor() {
        String before = System.getProperty("io.netty.jfr.enabled");
        try {
            System.clearProperty("io.netty.jfr.enabled");
            Main.quietNettyFlightRecorderEvents();
            assertEquals("false", System.getProperty("io.netty.jfr.enabled"));
            System.setProperty("io.netty.jfr.enabled", "true");
            Main.quietNettyFlightRecorderEvents();
            assertEquals("true", System.getProperty("io.netty.jfr.enabled"));
        } finally {
            if (before == null) {
                System.clearProperty("io.netty.jfr.enabled");
            } else {
                System.setProperty("io.netty.jfr.enabled", before);
            }
        }
    }
}
