package io.switchboard.transport;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;

/** The socket transport: native epoll (default), io_uring, or NIO as the portable fallback. Immutable. */
public enum Transport {
    EPOLL, IO_URING, NIO;

    /** Parses {@code epoll|io_uring|nio} (case-insensitive); one-line error otherwise. */
    public static Transport parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--transport must be epoll, io_uring or nio, not '" + s + "'");
        }
    }

    /** Whether this transport can run here. */
    public boolean isAvailable() {
        return switch (this) {
            case EPOLL -> Epoll.isAvailable();
            case IO_URING -> IoUring.isAvailable();
            case NIO -> true;
        };
    }

    /** Throws with the native library's reason when this transport cannot run here. */
    public void ensureAvailable() {
        switch (this) {
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("epoll transport unavailable (" + Epoll.unavailabilityCause()
                            + "); use --transport nio");
                }
            }
            case IO_URING -> {
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException("io_uring transport unavailable (" + IoUring.unavailabilityCause()
                            + "); use --transport epoll");
                }
            }
            case NIO -> { }
        }
    }

    /** Whether SO_REUSEPORT can be set through this transport. */
    public boolean supportsReusePort() {
        return this != NIO;
    }

    /** TCP keepalive for accepted sockets; a value of 0 leaves the kernel's default. */
    public record Keepalive(boolean enabled, int idleSec, int intervalSec, int count) {
    }

    /**
     * Applies the listener options only a native transport offers: SO_REUSEPORT, keepalive tuning and
     * TCP_USER_TIMEOUT on accepted sockets (NIO keeps SO_KEEPALIVE alone). {@code userTimeoutMs} 0 leaves it off.
     */
    public void configureListener(io.netty.bootstrap.ServerBootstrap b, boolean reusePort, Keepalive keepalive,
                                  int userTimeoutMs) {
        if (this == NIO) {
            return;
        }
        if (reusePort) {
            b.option(io.netty.channel.unix.UnixChannelOption.SO_REUSEPORT, true);
        }
        boolean epoll = this == EPOLL;
        if (keepalive.enabled()) {
            childIfPositive(b, epoll ? io.netty.channel.epoll.EpollChannelOption.TCP_KEEPIDLE
                    : io.netty.channel.uring.IoUringChannelOption.TCP_KEEPIDLE, keepalive.idleSec());
            childIfPositive(b, epoll ? io.netty.channel.epoll.EpollChannelOption.TCP_KEEPINTVL
                    : io.netty.channel.uring.IoUringChannelOption.TCP_KEEPINTVL, keepalive.intervalSec());
            childIfPositive(b, epoll ? io.netty.channel.epoll.EpollChannelOption.TCP_KEEPCNT
                    : io.netty.channel.uring.IoUringChannelOption.TCP_KEEPCNT, keepalive.count());
        }
        childIfPositive(b, epoll ? io.netty.channel.epoll.EpollChannelOption.TCP_USER_TIMEOUT
                : io.netty.channel.uring.IoUringChannelOption.TCP_USER_TIMEOUT, userTimeoutMs);
    }

    private static void childIfPositive(io.netty.bootstrap.ServerBootstrap b,
                                        io.netty.channel.ChannelOption<Integer> option, int value) {
        if (value > 0) {
            b.childOption(option, value);
        }
    }

    public EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
        return new MultiThreadIoEventLoopGroup(threads, threadFactory, ioHandlerFactory(false));
    }

    /**
     * A group for channels that stay open after their input ended (ALLOW_HALF_CLOSURE: the proxy's, the gateway's
     * API connections, which answer what was read before a FIN): on epoll it carries {@link EpollRearm}'s fix for
     * Netty 4.2.18 dropping such channels from epoll (one 16-byte object per channel). The bench closes on EOF, so
     * its channels always have an interest left and do without the wrapper.
     */
    public EventLoopGroup newHalfClosingGroup(int threads, ThreadFactory threadFactory) {
        return new MultiThreadIoEventLoopGroup(threads, threadFactory, ioHandlerFactory(true));
    }

    private IoHandlerFactory ioHandlerFactory(boolean halfClosing) {
        return switch (this) {
            case EPOLL -> halfClosing ? EpollRearm.newFactory() : EpollIoHandler.newFactory();
            case IO_URING -> IoUringIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return switch (this) {
            case EPOLL -> EpollServerSocketChannel.class;
            case IO_URING -> IoUringServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public Class<? extends SocketChannel> socketChannelClass() {
        return switch (this) {
            case EPOLL -> EpollSocketChannel.class;
            case IO_URING -> IoUringSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
