package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.options.CommandLines;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** A stats read that fails says which URL and why, even when the exception has no message. */
@Timeout(60)
class BenchApiTest {
    @Test
    void shouldNameTheExceptionClassWhenItHasNoMessage() {
        assertEquals("bench: could not read http://h:1/v1/stats: java.net.ConnectException",
                BenchApi.unreadable(URI.create("http://h:1/v1/stats"), new ConnectException()));
        assertEquals("bench: could not read http://h:1/v1/stats: ConnectException: refused",
                BenchApi.unreadable(URI.create("http://h:1/v1/stats"), new ConnectException("refused")));
    }

    @Test
    void shouldReportAnUnreachableApiWithoutADoubleSlashOrNull() throws Exception {
        // A port held (bound, not listening) through the test: connects are refused, and nothing else takes it.
        try (Socket held = new Socket()) {
            held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            assertReportedUnreachable(held.getLocalPort());
        }
    }

    @Test
    void aServerPidThatIsGoneGivesNoRssFigureRatherThanZeroBytes() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long self = ProcessHandle.current().pid();
        CommandLine cl = CommandLines.rootWith(new BenchCommand());
        cl.parseArgs("bench", "--api", "none", "--server-pid", Long.toString(self), "--server-pid",
                Long.toString(gone.pid()));
        BenchCommand bench = cl.getSubcommands().get("bench").getCommand();
        StringWriter text = new StringWriter();

        BenchApi.ServerReading r = new BenchApi(bench.plan(), new PrintWriter(text, true)).readServer(false);

        assertEquals(-1, r.pidRssBytes(), "a dead server counted as 0 B made the figure per client smaller");
        assertTrue(text.toString().contains("server pid " + gone.pid() + " is gone"), text.toString());
    }

    private static void assertReportedUnreachable(int port) {
        CommandLine cl = CommandLines.rootWith(new BenchCommand());
        cl.parseArgs("bench", "--api", "http://127.0.0.1:" + port);
        BenchCommand bench = cl.getSubcommands().get("bench").getCommand();
        StringWriter text = new StringWriter();

        BenchApi.ServerReading r = new BenchApi(bench.plan(), new PrintWriter(text, true)).readServer(false);

        assertEquals(-1, r.heapBytes());
        String line = text.toString().strip();
        assertTrue(line.startsWith("bench: could not read http://127.0.0.1:" + port + "/v1/stats: "), line);
        assertFalse(line.endsWith("null"), line);
    }
}
