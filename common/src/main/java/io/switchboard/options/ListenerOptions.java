package io.switchboard.options;

import io.switchboard.transport.Transport;
import picocli.CommandLine.Option;

/**
 * Options every listening command shares (server, proxy): transport, loops, SO_REUSEPORT, backlog, keepalive. Each
 * field is the setting itself, its initial value the one default: a command's configuration builder extends this
 * class or copies the fields. Filled by picocli (or set by tests) on one thread, then {@link #parseWords()}.
 */
public class ListenerOptions {
    private static final String DEFAULT_TRANSPORT = "epoll";

    /** Set from {@code --transport} by {@link #parseWords()}. */
    public Transport transport = Transport.parse(DEFAULT_TRANSPORT);
    // The word as typed: parsed by parseWords(), not by picocli, so that a wrong one is reported like every other
    // invalid setting ("switchboard server: --transport must be ...", exit 2).
    @Option(names = "--transport", paramLabel = "<transport>", defaultValue = DEFAULT_TRANSPORT,
            description = "Socket transport: epoll, io_uring or nio.")
    private String transportWord;
    @Option(names = "--event-loops", description = "Event loop threads (default: number of cores).")
    public int eventLoops = Runtime.getRuntime().availableProcessors();
    @Option(names = "--reuse-port", description = "Set SO_REUSEPORT so several processes share the listening port.")
    public boolean reusePort;
    @Option(names = "--backlog", description = "Accept queue length (capped by net.core.somaxconn).")
    public int backlog = 4096;
    // defaultValue/fallbackValue as well as the initial value: without them picocli toggles a field that starts
    // true, so --no-tcp-keepalive would leave it on and --tcp-keepalive would switch it off.
    @Option(names = "--tcp-keepalive", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "TCP keepalive on accepted sockets (the proxy: on upstream sockets too); "
                    + "--no-tcp-keepalive switches it off.")
    public boolean tcpKeepalive = true;
    @Option(names = "--tcp-keepidle", paramLabel = "<tcpKeepIdle>",
            description = "Idle seconds before keepalive probes (epoll/io_uring).")
    public int tcpKeepIdleSec = 120;
    @Option(names = "--tcp-keepintvl", paramLabel = "<tcpKeepIntvl>", description = "Seconds between keepalive probes.")
    public int tcpKeepIntervalSec = 30;
    @Option(names = "--tcp-keepcnt", paramLabel = "<tcpKeepCnt>",
            description = "Unanswered probes before the kernel drops the peer.")
    public int tcpKeepCount = 4;

    /**
     * Turns the words the command line gave into typed settings ({@code --transport}); a no-op when nothing was
     * parsed. Throws {@link IllegalArgumentException} naming the option.
     */
    public void parseWords() {
        if (transportWord != null) {
            transport = Transport.parse(transportWord);
            transportWord = null;
        }
    }

    /** Parses the words ({@link #parseWords()}), then copies these settings into {@code to}, a configuration. */
    public void copyTo(ListenerOptions to) {
        parseWords();
        to.transport = transport;
        to.eventLoops = eventLoops;
        to.reusePort = reusePort;
        to.backlog = backlog;
        to.tcpKeepalive = tcpKeepalive;
        to.tcpKeepIdleSec = tcpKeepIdleSec;
        to.tcpKeepIntervalSec = tcpKeepIntervalSec;
        to.tcpKeepCount = tcpKeepCount;
    }

    /** Checks the ranges of these settings; throws {@link IllegalArgumentException} naming the option. */
    public void validateListener() {
        Ranges.check("--event-loops", eventLoops, 1, 1024);
        Ranges.check("--backlog", backlog, 1, 1 << 20);
        Ranges.check("--tcp-keepidle", tcpKeepIdleSec, 0, 32_767);
        Ranges.check("--tcp-keepintvl", tcpKeepIntervalSec, 0, 32_767);
        Ranges.check("--tcp-keepcnt", tcpKeepCount, 0, 127);
    }
}
