package io.switchboard.options;

import picocli.CommandLine.Option;

/** Options every listening command shares (server, proxy): transport, loops, SO_REUSEPORT, backlog, keepalive. */
public final class ListenerOptions {
    @Option(names = "--transport", description = "Socket transport: epoll, io_uring or nio.")
    public String transport = "epoll";
    @Option(names = "--event-loops", description = "Event loop threads (default: number of cores).")
    public int eventLoops = Runtime.getRuntime().availableProcessors();
    @Option(names = "--reuse-port", description = "Set SO_REUSEPORT so several processes share the listening port.")
    public boolean reusePort;
    @Option(names = "--backlog", description = "Accept queue length (capped by net.core.somaxconn).")
    public int backlog = 4096;
    // defaultValue/fallbackValue, not a field initialiser: with `= true` picocli toggles, so --no-tcp-keepalive
    // would leave it on and --tcp-keepalive would switch it off.
    @Option(names = "--tcp-keepalive", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "TCP keepalive on accepted sockets (the proxy: on upstream sockets too); "
                    + "--no-tcp-keepalive switches it off.")
    public boolean tcpKeepalive;
    @Option(names = "--tcp-keepidle", description = "Idle seconds before keepalive probes (epoll/io_uring).")
    public int tcpKeepIdle = 120;
    @Option(names = "--tcp-keepintvl", description = "Seconds between keepalive probes.")
    public int tcpKeepIntvl = 30;
    @Option(names = "--tcp-keepcnt", description = "Unanswered probes before the kernel drops the peer.")
    public int tcpKeepCnt = 4;
}
