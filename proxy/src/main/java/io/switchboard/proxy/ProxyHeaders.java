package io.switchboard.proxy;

import io.netty.channel.Channel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.InetAddress;
import io.switchboard.transport.ProxyHeaderAddresses;
import java.net.InetSocketAddress;

/** PROXY protocol (v1 text, v2 binary) headers to and from socket addresses, and sending one upstream. Stateless. */
final class ProxyHeaders {
    private ProxyHeaders() {}

    /**
     * The header announcing a connection from {@code source} to {@code destination}. Mixed families are sent as
     * TCP6 with the IPv4 address mapped ({@code ::ffff:a.b.c.d}).
     */
    static HAProxyMessage header(RouteConfig.SendProxy version, InetSocketAddress source,
                                 InetSocketAddress destination) {
        HAProxyProtocolVersion v = version == RouteConfig.SendProxy.V1 ? HAProxyProtocolVersion.V1
                : HAProxyProtocolVersion.V2;
        InetAddress s = source.getAddress();
        InetAddress d = destination.getAddress();
        boolean v4 = s instanceof Inet4Address && d instanceof Inet4Address;
        return new HAProxyMessage(v, HAProxyCommand.PROXY, v4 ? HAProxyProxiedProtocol.TCP4
                : HAProxyProxiedProtocol.TCP6, text(s, v4), text(d, v4), source.getPort(), destination.getPort());
    }

    /**
     * The original {source, destination} a received header announces, or null when it carries none (a LOCAL
     * command, as load balancers send for health checks, or UNKNOWN): the TCP peer then stands for itself.
     */
    static InetSocketAddress[] addresses(HAProxyMessage m) {
        InetSocketAddress source = ProxyHeaderAddresses.source(m);
        InetSocketAddress destination = ProxyHeaderAddresses.destination(m);
        return source == null || destination == null ? null : new InetSocketAddress[] {source, destination};
    }

    /** The client's address for admission: the one an accepted header announced, else the TCP peer's. */
    static InetAddress source(Channel client, InetSocketAddress[] proxied) {
        return proxied != null ? proxied[0].getAddress() : ((InetSocketAddress) client.remoteAddress()).getAddress();
    }

    /**
     * Writes (without a flush) the header announcing {@code client} to its {@code upstream}: the addresses of the
     * header the client sent when there was one ({@code proxied}), else the client connection's own. On the
     * connection's event loop.
     */
    static void write(Channel upstream, RouteConfig.SendProxy version, Channel client, InetSocketAddress[] proxied) {
        InetSocketAddress src;
        InetSocketAddress dst;
        if (proxied != null) {
            src = proxied[0];
            dst = proxied[1];
        } else {
            src = (InetSocketAddress) client.remoteAddress();
            dst = (InetSocketAddress) client.localAddress();
        }
        HAProxyMessage header = header(version, src, dst);
        // The encoder is needed for this one message only: in and out again, so the pipeline stays one handler.
        upstream.pipeline().addFirst(HAProxyMessageEncoder.INSTANCE);
        try {
            upstream.write(header, upstream.voidPromise());
        } finally {
            upstream.pipeline().remove(HAProxyMessageEncoder.INSTANCE);
        }
    }

    private static String text(InetAddress a, boolean v4) {
        if (v4 || !(a instanceof Inet4Address)) {
            String t = a.getHostAddress();
            int scope = t.indexOf('%');
            return scope < 0 ? t : t.substring(0, scope);
        }
        return "::ffff:" + a.getHostAddress();
    }
}
