package io.switchboard.proxy;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;

/**
 * One listening socket of the proxy and the route its new connections take. The channel is bound once; a reload
 * replaces {@link #route}, which new connections read when they are accepted, while open connections keep the
 * route they started with.
 */
final class ProxyListener {
    final String name;
    /** The bound listening channel; set once right after bind. */
    Channel channel;
    volatile Route route;

    ProxyListener(String name) {
        this.name = name;
    }

    int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }
}
