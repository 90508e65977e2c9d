package io.switchboard.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.switchboard.transport.Transport;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the upstream side of forwarded connections: socket options (half-closure, keepalive, connect timeout, the
 * per-socket local port range), registration on the caller's event loop, and the source address for each attempt.
 *
 * <p>With {@code --source}, every socket gets {@code IP_BIND_ADDRESS_NO_PORT} before {@code bind(src, 0)}, so the
 * port is chosen at {@code connect()} under the 4-tuple rule and each source address has its own ports towards each
 * upstream. {@code --source-ports} is {@code IP_LOCAL_PORT_RANGE} (Linux 6.3+); when the kernel or transport rejects
 * it, it is switched off once with one log line and the global {@code ip_local_port_range} applies. Thread-safe.
 */
final class OutboundSockets {
    private static final Logger log = LoggerFactory.getLogger(OutboundSockets.class);
    /** {@code IP_LOCAL_PORT_RANGE}: option 51 at {@code SOL_IP} (0), value {@code (hi << 16) | lo}. */
    static final IntegerUnixChannelOption IP_LOCAL_PORT_RANGE =
            new IntegerUnixChannelOption("IP_LOCAL_PORT_RANGE", 0, 51);
    /** {@code IP_BIND_ADDRESS_NO_PORT} (24 at {@code SOL_IP}) for io_uring, whose option set lacks it. */
    private static final IntegerUnixChannelOption IP_BIND_ADDRESS_NO_PORT_RAW =
            new IntegerUnixChannelOption("IP_BIND_ADDRESS_NO_PORT", 0, 24);
    /** Read size of one forwarded chunk; stateless, so one instance serves every channel. */
    static final RecvByteBufAllocator READ_ALLOCATOR = new FixedRecvByteBufAllocator(32 * 1024);
    /**
     * A channel turns unwritable as soon as one byte waits and writable again only when nothing waits: the side
     * feeding it is read again only after the previous chunk was handed to the kernel. Backpressure by
     * construction, at most one chunk held per direction, and no listener allocated per write.
     */
    static final WriteBufferWaterMark ONE_CHUNK = new WriteBufferWaterMark(1, 1);
    static final long LOG_EVERY_MS = 60_000;

    private final ProxyConfig config;
    private final ProxyMetrics metrics;
    private final ReflectiveChannelFactory<? extends Channel> factory;
    private final InetSocketAddress[] sources;
    /** {@link #sources} by family: a connection leaves from one of its upstream's family. */
    private final InetSocketAddress[] sources4;
    private final InetSocketAddress[] sources6;
    private final int portRangeValue;
    private volatile boolean portRangeEnabled;
    private final AtomicLong lastExhaustionLogMs = new AtomicLong(Long.MIN_VALUE / 2);

    /**
     * Refuses a source address this machine does not have: every bind to it fails (EADDRNOTAVAIL), which the
     * connections would count as source ports used up, send to the next source (doubling its load), and tell the
     * operator to add sources or ports, the wrong remedy. One UDP bind to port 0 per address says it at once: UDP,
     * whose ports are apart from TCP's, so that a busy proxy whose TCP ports on an address are all taken (by its
     * connections and their TIME_WAIT, which connect() can still share and bind() cannot) is not told the address
     * is not its own at a reload or a restart.
     *
     * @throws IllegalArgumentException naming the first such address
     */
    static void checkSources(java.util.List<java.net.InetAddress> sources) {
        for (java.net.InetAddress a : new java.util.LinkedHashSet<>(sources)) {
            try (java.net.DatagramSocket probe = new java.net.DatagramSocket(null)) {
                probe.bind(new InetSocketAddress(a, 0));
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("--source " + a.getHostAddress() + " is not an address of this "
                        + "machine (" + e.getMessage() + "): add it to an interface (ip addr add " + a.getHostAddress()
                        + "/32 dev <interface>) or leave it out");
            }
        }
    }

    OutboundSockets(ProxyConfig config, ProxyMetrics metrics) {
        checkSources(config.sources);
        this.config = config;
        this.metrics = metrics;
        this.factory = new ReflectiveChannelFactory<>(config.transport.socketChannelClass());
        this.sources = config.sources.stream().map(a -> new InetSocketAddress(a, 0)).toArray(InetSocketAddress[]::new);
        this.sources4 = java.util.Arrays.stream(sources).filter(a -> !(a.getAddress() instanceof java.net.Inet6Address))
                .toArray(InetSocketAddress[]::new);
        this.sources6 = java.util.Arrays.stream(sources).filter(a -> a.getAddress() instanceof java.net.Inet6Address)
                .toArray(InetSocketAddress[]::new);
        this.portRangeValue = config.sourcePorts == null ? 0 : (config.sourcePorts[1] << 16) | config.sourcePorts[0];
        this.portRangeEnabled = config.sourcePorts != null && config.transport != Transport.NIO;
        if (config.sourcePorts != null && config.transport == Transport.NIO) {
            log.warn("--source-ports needs a native transport (epoll or io_uring); ignored with nio");
        }
    }

    /** Shows this one's port range in the metrics (at start, and when a reload commits it). */
    void publish() {
        metrics.portRangeApplied = portRangeEnabled ? 1 : 0;
    }

    int sourceCount() {
        return sources.length;
    }

    /** Source-address retries one connection to {@code upstream} makes on EADDRNOTAVAIL before it gives up on it. */
    int sourceTryLimit(InetSocketAddress upstream) {
        return Math.max(1, Math.min(sourcesFor(upstream).length, 64));
    }

    /**
     * The local address for the next attempt towards {@code upstream} on this loop: one of its family (an IPv4 source
     * on an IPv6 socket is mapped, and the kernel refuses it for an IPv6 peer, and the other way round: the connect
     * failed and was counted against a healthy upstream), or null to let the kernel choose (no --source, or none of
     * that family for an upstream named by a host name that resolved to the other).
     */
    InetSocketAddress nextSource(ProxyLoop loop, InetSocketAddress upstream) {
        InetSocketAddress[] of = sourcesFor(upstream);
        if (of.length == 0) {
            return null;
        }
        return of[Math.floorMod(loop.sourceCursor++, of.length)];
    }

    private InetSocketAddress[] sourcesFor(InetSocketAddress upstream) {
        return upstream.getAddress() instanceof java.net.Inet6Address ? sources6 : sources4;
    }

    boolean portRangeEnabled() {
        return portRangeEnabled;
    }

    /**
     * A new upstream channel with {@code handler} as its only handler, registered on {@code loop}; the returned
     * future completes when it is registered (at once when called on the loop).
     */
    ChannelFuture open(EventLoop loop, ChannelHandler handler, int connectTimeoutMs) {
        Channel ch = configured(connectTimeoutMs);
        ch.pipeline().addLast(handler);
        return loop.register(ch);
    }

    /** Opens a bare channel for an active health check: no handler, no reads, same source options. */
    ChannelFuture openForCheck(EventLoop loop, int connectTimeoutMs) {
        return loop.register(configured(connectTimeoutMs));
    }

    /** A new channel with the source options; its socket closed again when one cannot be set (none leaks). */
    private Channel configured(int connectTimeoutMs) {
        Channel ch = factory.newChannel();
        try {
            configure(ch.config(), connectTimeoutMs);
        } catch (RuntimeException e) {
            ch.unsafe().closeForcibly();
            throw e;
        }
        return ch;
    }

    private void configure(ChannelConfig c, int connectTimeoutMs) {
        c.setAutoRead(false);
        c.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        c.setOption(ChannelOption.TCP_NODELAY, true);
        c.setOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs);
        c.setRecvByteBufAllocator(READ_ALLOCATOR);
        c.setWriteBufferWaterMark(ONE_CHUNK);
        c.setOption(ChannelOption.SO_KEEPALIVE, config.tcpKeepalive);
        switch (config.transport) {
            case EPOLL -> {
                if (config.tcpKeepalive) {
                    positive(c, EpollChannelOption.TCP_KEEPIDLE, config.tcpKeepIdleSec);
                    positive(c, EpollChannelOption.TCP_KEEPINTVL, config.tcpKeepIntervalSec);
                    positive(c, EpollChannelOption.TCP_KEEPCNT, config.tcpKeepCount);
                }
                if (sources.length > 0) {
                    c.setOption(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
                }
            }
            case IO_URING -> {
                if (config.tcpKeepalive) {
                    positive(c, IoUringChannelOption.TCP_KEEPIDLE, config.tcpKeepIdleSec);
                    positive(c, IoUringChannelOption.TCP_KEEPINTVL, config.tcpKeepIntervalSec);
                    positive(c, IoUringChannelOption.TCP_KEEPCNT, config.tcpKeepCount);
                }
                if (sources.length > 0) {
                    c.setOption(IP_BIND_ADDRESS_NO_PORT_RAW, 1);
                }
            }
            case NIO -> { } // keepalive tuning and IP_BIND_ADDRESS_NO_PORT need a native transport
        }
        if (portRangeEnabled) {
            applyPortRange(c);
        }
    }

    private void applyPortRange(ChannelConfig c) {
        try {
            c.setOption(IP_LOCAL_PORT_RANGE, portRangeValue);
        } catch (ChannelException | UnsupportedOperationException e) {
            // Before Linux 6.3 the kernel answers ENOPROTOOPT: fall back to the global range, once.
            if (portRangeEnabled) {
                portRangeEnabled = false;
                metrics.portRangeApplied = 0;
                log.warn("--source-ports {}-{}: IP_LOCAL_PORT_RANGE rejected ({}); using the kernel's global "
                                + "net.ipv4.ip_local_port_range instead (needs Linux 6.3+)",
                        config.sourcePorts[0], config.sourcePorts[1], rootMessage(e));
            }
        }
    }

    /** Counts a connection for which every source address was out of ports; logs it at most once a minute. */
    void allSourcesExhausted(Upstream target, long nowMs) {
        metrics.allSourcesExhausted.increment();
        long last = lastExhaustionLogMs.get();
        if (nowMs - last >= LOG_EVERY_MS && lastExhaustionLogMs.compareAndSet(last, nowMs)) {
            log.warn("every source address is out of local ports towards {} ({} sources{}); new connections go to "
                            + "another upstream or are closed until ports free up: add --source addresses{} "
                            + "(switchboard_proxy_sources_exhausted_total counts them; logged once a minute)", target.label(), Math.max(1, sources.length),
                    config.sourcePorts == null ? "" : ", ports " + config.sourcePorts[0] + "-" + config.sourcePorts[1],
                    config.sourcePorts == null ? " or widen net.ipv4.ip_local_port_range" : " or widen --source-ports");
        }
    }

    private static void positive(ChannelConfig c, ChannelOption<Integer> option, int value) {
        if (value > 0) {
            c.setOption(option, value);
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null) {
            r = r.getCause();
        }
        return r.getMessage() == null ? r.toString() : r.getMessage();
    }
}
