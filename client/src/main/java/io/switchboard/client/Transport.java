package io.switchboard.client;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * Picks the socket transport: native epoll when its optional jar and native library are present, NIO otherwise.
 * Epoll is reached by reflection (once, at class initialisation), so the client compiles and runs without it.
 * Immutable after initialisation; thread-safe.
 */
final class Transport {
    private static final Class<? extends IoHandler> EPOLL_HANDLER;
    private static final Class<? extends SocketChannel> EPOLL_CHANNEL;
    private static final IoHandlerFactoryMaker EPOLL_FACTORY;

    static {
        Class<? extends IoHandler> handler = null;
        Class<? extends SocketChannel> channel = null;
        IoHandlerFactoryMaker factory = null;
        try {
            ClassLoader cl = Transport.class.getClassLoader();
            Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll", true, cl);
            if ((Boolean) epoll.getMethod("isAvailable").invoke(null)) {
                Class<? extends IoHandler> h = Class.forName("io.netty.channel.epoll.EpollIoHandler", true, cl)
                        .asSubclass(IoHandler.class);
                java.lang.reflect.Method newFactory = h.getMethod("newFactory");
                channel = Class.forName("io.netty.channel.epoll.EpollSocketChannel", true, cl).asSubclass(SocketChannel.class);
                factory = () -> {
                    try {
                        return (IoHandlerFactory) newFactory.invoke(null);
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("cannot create an epoll event loop", e);
                    }
                };
                handler = h;
            }
        } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
            handler = null;
            channel = null;
            factory = null;
        }
        EPOLL_HANDLER = handler;
        EPOLL_CHANNEL = channel;
        EPOLL_FACTORY = factory;
    }

    private interface IoHandlerFactoryMaker {
        IoHandlerFactory make();
    }

    private Transport() {
    }

    static boolean epoll() {
        return EPOLL_HANDLER != null;
    }

    /** A new group of daemon event-loop threads on the best available transport. */
    static EventLoopGroup newGroup(int threads, String threadPrefix) {
        DefaultThreadFactory threadFactory = new DefaultThreadFactory(threadPrefix, true);
        IoHandlerFactory factory = epoll() ? EPOLL_FACTORY.make() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, threadFactory, factory);
    }

    /**
     * Sets TCP keepalive's idle time, probe interval and probe count on the connections {@code b} makes from
     * {@code loop}: epoll's own options there (reached by reflection, the jar being optional), the JDK's extended
     * socket options on NIO.
     */
    static void keepalive(io.netty.bootstrap.Bootstrap b, EventLoop loop, int idleSec, int intervalSec, int count) {
        if (channelType(loop) == NioSocketChannel.class) {
            b.option(io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE), idleSec);
            b.option(io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL),
                    intervalSec);
            b.option(io.netty.channel.socket.nio.NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT), count);
            return;
        }
        b.option(epollOption("TCP_KEEPIDLE"), idleSec);
        b.option(epollOption("TCP_KEEPINTVL"), intervalSec);
        b.option(epollOption("TCP_KEEPCNT"), count);
    }

    @SuppressWarnings("unchecked")
    private static io.netty.channel.ChannelOption<Integer> epollOption(String name) {
        try {
            return (io.netty.channel.ChannelOption<Integer>) Class.forName("io.netty.channel.epoll.EpollChannelOption",
                    true, Transport.class.getClassLoader()).getField(name).get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("epoll's " + name + " option is missing", e);
        }
    }

    /** The socket channel type that can register on {@code loop}; rejects loops of other transports. */
    static Class<? extends SocketChannel> channelType(EventLoop loop) {
        if (loop instanceof IoEventLoop io) {
            if (epoll() && io.isIoType(EPOLL_HANDLER)) {
                return EPOLL_CHANNEL;
            }
            if (io.isIoType(NioIoHandler.class)) {
                return NioSocketChannel.class;
            }
        }
        throw new IllegalArgumentException("unsupported event loop " + loop.getClass().getName()
                + ": pass a group made by SwitchboardClient.newEventLoopGroup(), or an epoll or NIO MultiThreadIoEventLoopGroup");
    }
}
