package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.switchboard.options.CidrList;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** PROXY protocol v1 and v2: headers round-trip through Netty's codec, are sent upstream and accepted. */
@Timeout(30)
class ProxyProtocolTest {
    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void shouldRoundTripV1HeaderForIpv4() throws Exception {
        InetSocketAddress[] back = roundTrip(RouteConfig.SendProxy.V1, new InetSocketAddress("192.0.2.1", 5555),
                new InetSocketAddress("198.51.100.2", 443), "PROXY TCP4 192.0.2.1 198.51.100.2 5555 443\r\n");
        assertEquals(new InetSocketAddress("192.0.2.1", 5555), back[0]);
        assertEquals(new InetSocketAddress("198.51.100.2", 443), back[1]);
    }

    @Test
    void shouldRoundTripV2HeaderForIpv6AndMixedFamilies() throws Exception {
        InetSocketAddress[] v6 = roundTrip(RouteConfig.SendProxy.V2, new InetSocketAddress("2001:db8::1", 40000),
                new InetSocketAddress("2001:db8::2", 7000), null);
        assertEquals(new InetSocketAddress("2001:db8::1", 40000), v6[0]);
        assertEquals(new InetSocketAddress("2001:db8::2", 7000), v6[1]);
        InetSocketAddress[] mixed = roundTrip(RouteConfig.SendProxy.V2, new InetSocketAddress("192.0.2.1", 1),
                new InetSocketAddress("2001:db8::2", 2), null);
        assertEquals(new InetSocketAddress("192.0.2.1", 1), mixed[0], "IPv4 travels mapped into IPv6");
    }

    @Test
    void shouldTreatLocalCommandAsTheTcpPeer() {
        HAProxyMessage local = new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
        try {
            assertNull(ProxyHeaders.addresses(local));
        } finally {
            local.release();
        }
    }

    @Test
    void shouldAcceptV1HeaderAndSendV2HeaderWithTheOriginalAddresses() throws Exception {
        CompletableFuture<HAProxyMessage> seen = new CompletableFuture<>();
        TestUpstream upstream = fx.upstream(s -> {
            seen.complete(readV2Header(s.getInputStream()));
            TestUpstream.ECHO.serve(s);
        });
        fx.config.route().acceptProxy = true;
        fx.config.route().sendProxy = RouteConfig.SendProxy.V2;
        fx.start(upstream.address());

        Socket s = fx.connect();
        s.getOutputStream().write("PROXY TCP4 192.0.2.1 198.51.100.2 5555 443\r\nhello".getBytes(
                StandardCharsets.US_ASCII));
        assertEquals("hello", new String(Bytes.readExactly(s.getInputStream(), 5), StandardCharsets.US_ASCII),
                "bytes after the header in the same packet are forwarded, the header is not");
        HAProxyMessage m = seen.get(10, TimeUnit.SECONDS);
        try {
            assertEquals(HAProxyProtocolVersion.V2, m.protocolVersion());
            assertEquals("192.0.2.1", m.sourceAddress());
            assertEquals(5555, m.sourcePort());
            assertEquals("198.51.100.2", m.destinationAddress());
            assertEquals(443, m.destinationPort());
        } finally {
            m.release();
        }
        Bytes.roundTrip(s, "and more");
    }

    @Test
    void shouldCountAClientThatEndsBeforeItsHeader() throws Exception {
        TestUpstream upstream = fx.upstream(TestUpstream.ECHO);
        fx.config.route().acceptProxy = true;
        fx.start(upstream.address());
        Socket s = fx.connect();
        s.shutdownOutput(); // a FIN, no header
        assertEquals(-1, s.getInputStream().read());
        ProxyFixture.await("counted", () -> fx.proxy().metrics().refusals(ProxyMetrics.Refused.PROXY_HEADER) == 1);
        assertEquals(0, upstream.accepted.get());
    }

    @Test
    void shouldRefuseAPeerOutsideAcceptProxyFromUnheard() throws Exception {
        TestUpstream upstream = fx.upstream(TestUpstream.ECHO);
        fx.config.route().acceptProxy = true;
        fx.config.route().allow = io.switchboard.options.CidrList.parse("--allow", "10.0.0.0/8");
        fx.config.route().acceptProxyFrom = io.switchboard.options.CidrList.parse("--accept-proxy-from",
                "192.0.2.0/24"); // the proxies in front; this test connects from 127.0.0.1
        fx.start(upstream.address());
        Socket s = fx.connect();
        s.getOutputStream().write("PROXY TCP4 10.1.2.3 198.51.100.2 5555 443\r\nhello".getBytes(
                StandardCharsets.US_ASCII)); // a forged address inside --allow
        int read;
        try {
            read = s.getInputStream().read();
        } catch (java.net.SocketException reset) { // closed with our bytes unread
            read = -1;
        }
        assertEquals(-1, read, "closed, not forwarded");
        assertEquals(0, upstream.accepted.get());
        ProxyFixture.await("counted", () -> fx.proxy().metrics().refusals(ProxyMetrics.Refused.PROXY_UNTRUSTED) == 1);
    }

    @Test
    void shouldForwardBytesAndFinThatArriveWithTheHeaderBeforeTheUpstreamIsConnected() throws Exception {
        TestUpstream counter = fx.upstream(s -> {
            byte[] request = s.getInputStream().readAllBytes();
            s.getOutputStream().write(("got " + new String(request, StandardCharsets.US_ASCII))
                    .getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
        });
        fx.config.route().acceptProxy = true;
        fx.start(counter.address());
        Socket s = fx.connect();
        s.getOutputStream().write("PROXY TCP4 192.0.2.1 198.51.100.2 5555 443\r\nearly bytes".getBytes(
                StandardCharsets.US_ASCII));
        s.shutdownOutput();
        assertEquals("got early bytes", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
        ProxyFixture.await("released", () -> fx.proxy().metrics().active.get() == 0);
    }

    @Test
    void shouldSendV1HeaderWithTheClientAddress() throws Exception {
        CompletableFuture<String> line = new CompletableFuture<>();
        TestUpstream upstream = fx.upstream(s -> {
            StringBuilder sb = new StringBuilder();
            for (int c; (c = s.getInputStream().read()) >= 0 && c != '\n'; ) {
                sb.append((char) c);
            }
            line.complete(sb.toString());
            TestUpstream.ECHO.serve(s);
        });
        fx.config.route().sendProxy = RouteConfig.SendProxy.V1;
        fx.start(upstream.address());
        Socket s = fx.connectFrom("127.0.0.5");
        Bytes.roundTrip(s, "hi");
        assertEquals("PROXY TCP4 127.0.0.5 127.0.0.1 " + s.getLocalPort() + " " + fx.proxy().port() + "\r",
                line.get(10, TimeUnit.SECONDS));
    }

    @Test
    void shouldApplyDenyListToTheAddressInTheHeader() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.route().acceptProxy = true;
        fx.config.route().deny = CidrList.parse("--deny", "192.0.2.0/24");
        fx.start(echo.address());
        Socket denied = fx.connect();
        denied.getOutputStream().write("PROXY TCP4 192.0.2.9 198.51.100.2 1 2\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(Bytes.closedByPeer(denied));
        Socket allowed = fx.connect();
        allowed.getOutputStream().write("PROXY TCP4 203.0.113.9 198.51.100.2 1 2\r\n".getBytes(
                StandardCharsets.US_ASCII));
        Bytes.roundTrip(allowed, "welcome");
        assertEquals(1, fx.proxy().metrics().refusals(ProxyMetrics.Refused.DENIED));
    }

    @Test
    void shouldCloseConnectionWithMalformedHeader() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.route().acceptProxy = true;
        fx.start(echo.address());
        Socket s = fx.connect();
        s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(Bytes.closedByPeer(s));
        assertEquals(0, echo.accepted.get(), "nothing reached the upstream");
        ProxyFixture.await("released", () -> fx.proxy().metrics().active.get() == 0);
    }

    @Test
    void shouldCloseConnectionThatSendsNoHeaderInTime() throws Exception {
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.route().acceptProxy = true;
        fx.config.route().proxyHeaderTimeoutSec = 5;
        fx.start(echo.address());
        Socket s = fx.connect();
        ProxyFixture.await("accepted", () -> fx.proxy().metrics().active.get() == 1);
        fx.advanceSec(4);
        assertEquals(1, fx.proxy().connections());
        fx.advanceSec(1);
        assertTrue(Bytes.closedByPeer(s));
        assertEquals(1, fx.proxy().metrics().refusals(ProxyMetrics.Refused.PROXY_HEADER));
    }

    /** Encodes our header with Netty's encoder, checks v1 text when given, decodes it and returns the addresses. */
    private static InetSocketAddress[] roundTrip(RouteConfig.SendProxy version, InetSocketAddress src,
                                                 InetSocketAddress dst, String expectedV1) {
        EmbeddedChannel enc = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        assertTrue(enc.writeOutbound(ProxyHeaders.header(version, src, dst)));
        ByteBuf wire = enc.readOutbound();
        if (expectedV1 != null) {
            assertEquals(expectedV1, wire.toString(StandardCharsets.US_ASCII));
        }
        EmbeddedChannel dec = new EmbeddedChannel(new HAProxyMessageDecoder());
        assertTrue(dec.writeInbound(wire));
        HAProxyMessage m = dec.readInbound();
        try {
            assertEquals(version == RouteConfig.SendProxy.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2,
                    m.protocolVersion());
            return ProxyHeaders.addresses(m);
        } finally {
            m.release();
            enc.finishAndReleaseAll();
            dec.finishAndReleaseAll();
        }
    }

    /** Reads one v2 header (16 bytes + length) off a blocking stream and decodes it. */
    private static HAProxyMessage readV2Header(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] fixed = new byte[16];
        data.readFully(fixed);
        int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
        byte[] rest = new byte[length];
        data.readFully(rest);
        EmbeddedChannel dec = new EmbeddedChannel(new HAProxyMessageDecoder());
        try {
            dec.writeInbound(Unpooled.wrappedBuffer(fixed, rest));
            return dec.readInbound();
        } finally {
            dec.finishAndReleaseAll();
        }
    }
}
