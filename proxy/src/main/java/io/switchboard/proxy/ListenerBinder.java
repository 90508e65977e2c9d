package io.switchboard.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.switchboard.transport.LocalAddressSharing;
import io.switchboard.transport.Transport;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binds the proxy's listening sockets on its event loops: the socket options from the server's configuration, and
 * for each accepted channel its pipeline (PROXY header decoder, TLS, then one {@link Link} on the accepting loop's
 * {@link ProxyLoop}) under the listener's route at that moment. One per server; immutable once built, so
 * {@link #bind} may be called from any thread (the server calls it with its monitor held) and the pipelines are
 * built on the accepting event loops.
 */
final class ListenerBinder {
    private final ProxyServer server;
    private final EventLoopGroup group;
    private final Map<EventLoop, ProxyLoop> byLoop = new IdentityHashMap<>();

    ListenerBinder(ProxyServer server, EventLoopGroup group, List<ProxyLoop> loops) {
        this.server = server;
        this.group = group;
        for (ProxyLoop pl : loops) {
            byLoop.put(pl.loop, pl);
        }
    }

    /** Binds {@code l} to {@code rc}'s address and waits for it; sets {@code l.channel}. */
    void bind(ProxyListener l, RouteConfig rc) throws InterruptedException {
        ProxyConfig c = server.config;
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(c.transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, c.backlog)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, c.tcpKeepalive)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, OutboundSockets.READ_ALLOCATOR)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, OutboundSockets.ONE_CHUNK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        LocalAddressSharing.share(ch);
                        Route route = l.route;
                        ChannelPipeline p = ch.pipeline();
                        if (route.config.acceptProxy) {
                            p.addLast(new HAProxyMessageDecoder()); // the PROXY header comes before TLS
                        }
                        if (route.ssl != null) {
                            p.addLast(Tls.newHandler(route, ch));
                        }
                        p.addLast(new Link(byLoop.get(ch.eventLoop()), route, ch));
                    }
                });
        c.transport.configureListener(b, c.reusePort, new Transport.Keepalive(c.tcpKeepalive,
                c.tcpKeepIdleSec, c.tcpKeepIntervalSec, c.tcpKeepCount), 0);
        l.channel = b.bind(rc.listen).sync().channel();
    }
}
