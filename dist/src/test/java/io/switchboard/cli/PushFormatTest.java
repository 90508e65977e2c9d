package io.switchboard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** switchboard client prints one message per line: by default escaped, or as its -F format says. */
class PushFormatTest {
    private static String print(PushFormat f, long seq, String payload) {
        return new String(f.format("alice", seq, payload.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    @Test
    void shouldPrintASingleLinePayloadAsBefore() {
        assertEquals("{\"price\":42} \\ ok\n", print(PushFormat.lines(false), 7, "{\"price\":42} \\ ok"));
        assertEquals("seq=7 bytes=5 hello\n", print(PushFormat.lines(true), 7, "hello"));
    }

    @Test
    void shouldEscapeLineBreaksSoThatOneMessageIsOneLine() {
        assertEquals("line 1\\nline 2\\r\\n\n", print(PushFormat.lines(false), 1, "line 1\nline 2\r\n"));
    }

    @Test
    void shouldPrintTheFormatsDirectives() {
        PushFormat f = PushFormat.parse("%s %i [%t] %l %x 100%% %p\\t|");
        assertEquals("42 alice [] 4 610a6200 100% a\nb\0\t|\n", print(f, 42, "a\nb\0"));
    }

    @Test
    void shouldRefuseWhatItDoesNotUnderstand() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PushFormat.parse("%q")).getMessage()
                .startsWith("unknown directive %q"));
        assertThrows(IllegalArgumentException.class, () -> PushFormat.parse("%p %"));
        assertThrows(IllegalArgumentException.class, () -> PushFormat.parse("\\z"));
    }

    @Test
    void shouldExitWithAUsageErrorOnABadFormatBeforeConnecting() {
        CommandLine cl = Main.newCommandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));

        int code = cl.execute("client", "--id", "alice", "--port", "1", "-F", "%s %q");

        assertEquals(2, code);
        assertTrue(err.toString().contains("-F: unknown directive %q"), err.toString());
    }

    @Test
    void shouldListTheDirectivesInTheHelp() {
        CommandLine cl = Main.newCommandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));

        assertEquals(0, cl.execute("client", "--help"));
        String help = out.toString().replaceAll("\\s+", " ");
        assertTrue(help.contains("%p payload (raw bytes), %x payload as hex"), help);
    }
}
