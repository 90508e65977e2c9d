package io.switchboard.transport;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The addresses a received PROXY protocol header (v1 or v2) announces, for the gateway's and the proxy's
 * {@code --accept-proxy}. Null when the header carries none: a LOCAL command (a proxy's or load balancer's own
 * health check) or an UNKNOWN, UDP or UNIX protocol; the TCP peer then stands for itself. Stateless.
 */
public final class ProxyHeaderAddresses {
    private ProxyHeaderAddresses() {}

    /** The original client address, or null. */
    public static InetSocketAddress source(HAProxyMessage m) {
        return carriesAddresses(m) ? address(m.sourceAddress(), m.sourcePort()) : null;
    }

    /** The address the client connected to, or null. */
    public static InetSocketAddress destination(HAProxyMessage m) {
        return carriesAddresses(m) ? address(m.destinationAddress(), m.destinationPort()) : null;
    }

    private static boolean carriesAddresses(HAProxyMessage m) {
        HAProxyProxiedProtocol p = m.proxiedProtocol();
        return m.command() == HAProxyCommand.PROXY
                && (p == HAProxyProxiedProtocol.TCP4 || p == HAProxyProxiedProtocol.TCP6);
    }

    private static InetSocketAddress address(String literal, int port) {
        if (literal == null) {
            return null;
        }
        try {
            // The decoder validated the address as a literal: no name lookup happens. An IPv4 address mapped into
            // IPv6 (::ffff:a.b.c.d, a proxy's mixed families) comes back as IPv4, so limits count it as such.
            return new InetSocketAddress(InetAddress.getByName(literal), port);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
