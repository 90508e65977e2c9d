package io.switchboard.cli;

import io.switchboard.client.SwitchboardClient;
import io.switchboard.client.SwitchboardListener;
import io.switchboard.client.Welcome;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code switchboard client}: connects as one SWB/1 client and prints each pushed message on its own line to
 * stdout, like {@code mosquitto_sub} (as {@code -F} says, by default the payload with line breaks escaped); status
 * lines go to stderr. Exit codes: 0 after {@code --count} messages,
 * 1 when the client gives up (BYE 401/403, or any loss with {@code --no-reconnect}), 2 on a usage error.
 * Callbacks run on the client's event loop; the calling thread only waits for the outcome.
 */
@Command(name = "client",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = {
                "Connect to a Switchboard server as one client and print each message pushed to it, one message "
                        + "per line on stdout (like mosquitto_sub; -F chooses the format). Status lines go to stderr.",
                "Reconnects with exponential backoff and jitter, resuming after the last message received, "
                        + "and subscribes its topics again.",
                ""},
        footer = {"",
                "Exit codes: 0 after --count messages; 1 gave up (BYE 401/403, or with --no-reconnect the connection "
                        + "failed or ended); 2 usage error. Ctrl-C says BYE to the server and exits."})
public final class ClientCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--id", required = true, paramLabel = "ID",
            description = "Client id: 1-128 characters of [A-Za-z0-9._:@-]. Required.")
    String id;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Server host name or address. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "7000",
            description = "Server SWB/1 port. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--tls",
            description = "TLS to the server (behind a TLS-terminating proxy such as `switchboard proxy --tls-cert`): "
                    + "its certificate checked against the JVM's trusted CAs, its name against --host. Default: plain TCP.")
    boolean tls;

    @Option(names = "--tls-ca", paramLabel = "PEM",
            description = "TLS, trusting the certificates of this PEM file (a private CA, or the server's own "
                    + "self-signed certificate) instead of the JVM's CAs; the name is still checked.")
    java.nio.file.Path tlsCa;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "Token sent in HELLO (a JWT whose sub is the client id, when the server checks tokens). Default: none.")
    String token;

    @Option(names = "--hb", paramLabel = "SECONDS", defaultValue = "60",
            description = "Heartbeat interval to ask for; the server may clamp it; 0 asks for none. Default: ${DEFAULT-VALUE}.")
    int heartbeatSeconds;

    @Option(names = "--sub", paramLabel = "TOPIC",
            description = "Subscribe to TOPIC (again after every reconnect); repeat for several topics. Default: none.")
    List<String> topics = new ArrayList<>();

    @Option(names = "--count", paramLabel = "N", defaultValue = "0",
            description = "Exit with 0 after N messages (acknowledging those N only); 0 runs until Ctrl-C. Default: ${DEFAULT-VALUE}.")
    long count;

    @Option(names = "--verbose",
            description = "Print 'seq=<seq> bytes=<n> ' before each payload (without -F), and more status. Default: off.")
    boolean verbose;

    @Option(names = {"-F", "--format"}, paramLabel = "FORMAT",
            description = "Print each message as FORMAT, then a line break (like mosquitto_sub -F): "
                    + PushFormat.DIRECTIVES_HELP + ". Default: the payload with CR and LF written as \\r and \\n, "
                    + "so that one message is one line.")
    String format;

    @Option(names = "--no-reconnect",
            description = "Exit with 1 when the connection fails or ends, instead of reconnecting. Default: reconnect.")
    boolean noReconnect;

    /** Messages are printed as bytes ({@code -F '%p'} writes payloads unchanged, binary-safe), so a byte stream. */
    PrintStream payloadOut = System.out;

    private volatile PushFormat lineFormat;
    private volatile SwitchboardClient client;
    private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
    private long received; // event loop only

    @Override
    public Integer call() throws Exception {
        if (count < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must be >= 0, got " + count);
        }
        if (heartbeatSeconds < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--hb must be >= 0, got " + heartbeatSeconds);
        }
        PushFormat printed;
        try {
            printed = format == null ? PushFormat.lines(verbose) : PushFormat.parse(format);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "-F: " + e.getMessage());
        }
        lineFormat = printed;
        SwitchboardClient c;
        try {
            SwitchboardClient.Builder b = SwitchboardClient.builder()
                    .host(host).port(port).clientId(id).token(token)
                    .heartbeatSeconds(heartbeatSeconds)
                    .reconnect(!noReconnect)
                    .listener(new Printer());
            if (tlsCa != null) {
                b.tlsTrusting(tlsCa);
            } else if (tls) {
                b.tls();
            }
            c = b.build();
        } catch (IllegalArgumentException e) {
            // The builder names its settings; name the options instead.
            String message = e.getMessage().replace("clientId", "--id").replace("heartbeatSeconds", "--hb")
                    .replace("tlsTrusting", "--tls-ca").replace("token", "--token").replace("port", "--port");
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
        client = c;
        try {
            for (String topic : topics) {
                c.subscribe(topic).whenComplete((ok, failure) -> {
                    if (!exitCode.isDone()) {
                        status(failure == null ? "subscribed to " + topic
                                : "not subscribed to " + topic + ": " + describe(failure));
                    }
                });
            }
        } catch (IllegalArgumentException e) {
            c.close();
            throw new CommandLine.ParameterException(spec.commandLine(), "--sub: " + e.getMessage());
        }

        Thread onCtrlC = new Thread(() -> {
            c.close();
            payloadOut.flush();
        }, "switchboard-client-shutdown");
        Runtime.getRuntime().addShutdownHook(onCtrlC);
        try {
            if (verbose) {
                status("connecting to " + host + ":" + port + " as " + id
                        + (SwitchboardClient.nativeTransport() ? " (epoll)" : " (nio)"));
            }
            c.connect();
            int code = exitCode.get();
            c.close();
            return code;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onCtrlC);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C arrived meanwhile: the hook is already closing the client.
            }
            payloadOut.flush();
        }
    }

    /** Prints what the client reports; runs on the client's event loop. */
    private final class Printer implements SwitchboardListener {
        @Override
        public void onConnected(Welcome w) {
            status("connected to " + host + ":" + port + " as " + w.clientId() + " (hb=" + w.heartbeatSeconds()
                    + "s, seq=" + w.seq() + (w.node() == null ? "" : ", node=" + w.node()) + ")");
        }

        @Override
        public void onSessionReset(long resumedFromSeq, long serverSeq) {
            status("session reset: resumed after seq " + resumedFromSeq + " but the server is at " + serverSeq
                    + "; messages in between were lost");
        }

        @Override
        public void onMessage(long seq, byte[] payload) {
            if (exitCode.isDone()) {
                return;
            }
            byte[] line = lineFormat.format(id, seq, payload);
            payloadOut.write(line, 0, line.length);
            payloadOut.flush();
            if (count > 0 && ++received >= count) {
                // Close from here: acknowledges exactly these N messages, the rest stay on the server.
                client.closeAsync();
                exitCode.complete(0);
            }
        }

        @Override
        public void onError(int code, String text) {
            status("server refused a command: ERR " + code + " " + text);
        }

        @Override
        public void onBye(int code, String text) {
            status("server closed the connection: BYE " + code + (text.isEmpty() ? "" : " " + text));
        }

        @Override
        public void onDisconnected(Throwable cause, long reconnectDelayMs) {
            if (exitCode.isDone() || cause == null) {
                return;
            }
            status("disconnected: " + describe(cause)
                    + (reconnectDelayMs >= 0 ? "; reconnecting in " + reconnectDelayMs + " ms" : "; giving up"));
            if (reconnectDelayMs < 0) {
                exitCode.complete(1);
            }
        }
    }

    private void status(String line) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("switchboard client: " + line);
        err.flush();
    }

    private static String describe(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
    }
}
