package io.switchboard.proxy;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.InetAddress;
import io.switchboard.transport.ProxyHeaderAddresses;
import java.net.InetSocketAddress;

/** PROXY protocol (v1 text, v2 binary) headers to and from socket addresses. Stateless. */
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

    private static String text(InetAddress a, boolean v4) {
        if (v4 || !(a instanceof Inet4Address)) {
            String t = a.getHostAddress();
            int scope = t.indexOf('%');
            return scope < 0 ? t : t.substring(0, scope);
        }
        return "::ffff:" + a.getHostAddress();
    }
}
