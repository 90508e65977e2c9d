package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.switchboard.config.ServerConfig;
import io.switchboard.metrics.Refusal;
import io.switchboard.options.CidrList;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --accept-proxy}: the gateway behind a layer-4 proxy takes the client's address from the PROXY header (v1 or
 * v2) for admission limits and the API, over real sockets; deadlines are driven by the manual clock.
 */
@Timeout(30)
class GatewayProxyProtocolTest {
    private final GatewayFixture gw = new GatewayFixture();

    @BeforeEach
    void acceptProxy() {
        gw.config.acceptProxy = true;
    }

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldTakeTheClientAddressFromAV1Header() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.sendRaw(v1("203.0.113.7", 40001));
        assertEquals("WELCOME viaV1 v=1 hb=60 seq=0", c.hello("viaV1")); // HELLO in a write of its own
        assertEquals("203.0.113.7:40001", gw.clientInfo("viaV1").get("remote").asText());
        c.sync();
    }

    @Test
    void shouldTakeTheClientAddressFromAV2Header() throws Exception {
        gw.start();
        SwbTestClient v4 = gw.connect();
        v4.sendRaw(concat(v2(HAProxyCommand.PROXY, "198.51.100.9", 40002), "HELLO viaV2\n"));
        v4.expectLine("WELCOME viaV2 ");
        assertEquals("198.51.100.9:40002", gw.clientInfo("viaV2").get("remote").asText());

        SwbTestClient v6 = gw.connect();
        v6.sendRaw(concat(v2(HAProxyCommand.PROXY, "2001:db8::7", 40003), "HELLO viaV2six\n"));
        v6.expectLine("WELCOME viaV2six ");
        assertEquals("2001:db8:0:0:0:0:0:7:40003", gw.clientInfo("viaV2six").get("remote").asText());
    }

    @Test
    void shouldReadHelloAndMoreThatCameInTheSameWriteAsTheHeader() throws Exception {
        gw.start();
        SwbTestClient c = gw.connect();
        c.sendRaw(concat(v1("192.0.2.44", 5555), "HELLO eager\nPING\nSUB news\n"));
        c.expectLine("WELCOME eager ");
        assertEquals("PONG", c.readLine());
        assertEquals("OK SUB news", c.readLine());
        assertEquals("192.0.2.44:5555", gw.clientInfo("eager").get("remote").asText());
    }

    @Test
    void shouldCountThePerAddressLimitByTheAnnouncedAddress() throws Exception {
        gw.config.maxConnectionsPerIp = 1;
        gw.start();
        // Every connection comes from the proxy's one TCP address; the header tells the clients apart.
        SwbTestClient first = gw.connect();
        first.sendRaw(concat(v1("203.0.113.1", 1001), "HELLO first\n"));
        first.expectLine("WELCOME first ");
        SwbTestClient other = gw.connect();
        other.sendRaw(concat(v2(HAProxyCommand.PROXY, "203.0.113.2", 1002), "HELLO other\n"));
        other.expectLine("WELCOME other ");

        SwbTestClient again = gw.connect();
        again.sendRaw(concat(v2(HAProxyCommand.PROXY, "203.0.113.1", 1003), "HELLO again\n"));
        again.expectLine("BYE 429 too many connections from your address");
        again.expectEof();
        gw.assertRefusals("per_ip_limit", 1);
        assertEquals(2, gw.server().guard().trackedAddresses());

        first.leave();
        GatewayFixture.await(() -> gw.server().guard().trackedAddresses() == 1,
                "the announced address of the closed connection is released");
        SwbTestClient back = gw.connect();
        back.sendRaw(concat(v1("203.0.113.1", 1004), "HELLO back\n"));
        back.expectLine("WELCOME back ");
    }

    @Test
    void shouldTreatLocalCommandAndUnknownProtocolAsTheTcpPeer() throws Exception {
        gw.start();
        SwbTestClient check = gw.connect();
        check.sendRaw(concat(v2(HAProxyCommand.LOCAL, null, 0), "HELLO healthcheck\n"));
        check.expectLine("WELCOME healthcheck ");
        assertEquals(check.localAddress(), gw.clientInfo("healthcheck").get("remote").asText());

        SwbTestClient unknown = gw.connect();
        unknown.sendRaw("PROXY UNKNOWN\r\nHELLO unknown\n".getBytes(StandardCharsets.US_ASCII));
        unknown.expectLine("WELCOME unknown ");
        assertEquals(unknown.localAddress(), gw.clientInfo("unknown").get("remote").asText());
    }

    @Test
    void shouldCloseConnectionWithAMalformedHeaderAndCountIt() throws Exception {
        gw.start();
        SwbTestClient badAddress = gw.connect();
        badAddress.sendRaw("PROXY TCP4 not.an.ip.address 192.0.2.1 1 2\r\nHELLO bad\n"
                .getBytes(StandardCharsets.US_ASCII));
        badAddress.expectEof(); // no BYE: the peer does not speak the PROXY protocol, so it hears nothing more

        SwbTestClient direct = gw.connect(); // a client that bypassed the proxy
        direct.sendRaw("HELLO direct token=abcdefghijklmnopqrstuvwxyz\r\n".getBytes(StandardCharsets.US_ASCII));
        direct.expectEof();

        gw.assertRefusals("proxy_header", 2);
        assertEquals(0, gw.server().metrics().loopErrors.sum(), "a bad header is not an unexpected error");
        assertEquals(0, gw.server().guard().open(), "never admitted");
    }

    @Test
    void shouldRefuseAProxyHeaderFromAPeerOutsideAcceptProxyFrom() throws Exception {
        gw.config.acceptProxyFrom = "127.0.0.2/32";
        gw.config.maxConnectionsPerIp = 1;
        gw.start();
        // From 127.0.0.1: not the proxy, so whatever header it would send is not believed; it is closed unheard
        // (what it writes meanwhile would only make the kernel answer with a reset).
        SwbTestClient forged = gw.connect();
        forged.expectEof();
        gw.assertRefusals("proxy_untrusted", 1);
        gw.assertRefusals("proxy_header", 0);
        assertEquals(0, gw.server().guard().open(), "never admitted");

        SwbTestClient proxied = gw.connectFrom("127.0.0.2");
        proxied.sendRaw(concat(v1("203.0.113.99", 4001), "HELLO proxied\n"));
        proxied.expectLine("WELCOME proxied ");
        assertEquals("203.0.113.99:4001", gw.clientInfo("proxied").get("remote").asText());
    }

    @Test
    void shouldTrustOnlyLoopbackProxiesByDefault() {
        ServerConfig c = ServerConfig.DEFAULTS;
        assertTrue(c.trustedProxy(InetAddress.getLoopbackAddress()));
        assertTrue(c.trustedProxy(address("127.9.9.9")));
        assertTrue(c.trustedProxy(address("::1")));
        assertFalse(c.trustedProxy(address("10.0.0.1")));
        assertFalse(c.trustedProxy(address("2001:db8::1")));
    }

    @Test
    void shouldCloseConnectionWithoutACompleteHeaderWithinTheHeaderTimeout() throws Exception {
        gw.config.acceptProxyTimeoutSec = 5;
        gw.start();
        SwbTestClient silent = gw.connect();
        SwbTestClient partial = gw.connect();
        partial.sendRaw("PROXY TCP4 192.0.2.1 ".getBytes(StandardCharsets.US_ASCII));
        // The server must have seen both connections before time moves, or their deadlines would start later.
        GatewayFixture.await(() -> gw.server().metrics().connectionsAccepted.sum() == 2,
                "the server accepted both connections");

        gw.advanceSec(4);
        assertEquals(0, proxyHeaderRefusals(), "still within the header timeout");
        gw.advanceSec(2);

        silent.expectEof();
        partial.expectEof();
        gw.assertRefusals("proxy_header", 2);
        assertEquals(0, gw.server().metrics().refusals(Refusal.HANDSHAKE_TIMEOUT));
    }

    @Test
    void shouldApplyTheHandshakeTimeoutAfterTheHeader() throws Exception {
        gw.config.acceptProxyTimeoutSec = 5;
        gw.config.handshakeTimeoutSec = 10;
        gw.start();
        SwbTestClient c = gw.connect();
        c.sendRaw(v1("192.0.2.8", 8080));
        GatewayFixture.await(() -> gw.server().guard().open() == 1, "the server admitted the connection");

        gw.advanceSec(9);
        assertEquals(0, proxyHeaderRefusals(), "the header came in time");
        assertEquals(0, gw.server().metrics().refusals(Refusal.HANDSHAKE_TIMEOUT));
        gw.advanceSec(2);

        assertEquals("BYE 408 handshake timeout", c.readLine());
        c.expectEof();
        gw.assertRefusals("handshake_timeout", 1);
    }

    @Test
    void shouldRefuseAProxyLineAsTheFirstFrameWithoutAcceptProxy() throws Exception {
        gw.config.acceptProxy = false;
        gw.start();
        SwbTestClient c = gw.connect();
        c.sendRaw(concat(v1("203.0.113.7", 40001), "HELLO sneaky\n"));
        assertEquals("BYE 400 HELLO must be the first frame", c.readLine());
        c.expectEof();
        gw.assertRefusals("malformed_frame", 1);
        gw.assertRefusals("proxy_header", 0);
    }

    private long proxyHeaderRefusals() {
        return gw.server().metrics().refusals(Refusal.PROXY_HEADER);
    }

    private static InetAddress address(String literal) {
        return CidrList.literal("test", literal);
    }

    /** A v1 header announcing a TCP4 connection from {@code ip:port} to the gateway. */
    private static byte[] v1(String ip, int port) {
        return ("PROXY TCP4 " + ip + " 192.0.2.250 " + port + " 7000\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** A v2 header as Netty's encoder (and so {@code switchboard proxy --send-proxy v2}) writes it. */
    private static byte[] v2(HAProxyCommand command, String ip, int port) {
        HAProxyMessage m = command == HAProxyCommand.LOCAL
                ? new HAProxyMessage(HAProxyProtocolVersion.V2, command, HAProxyProxiedProtocol.UNKNOWN, null, null,
                        0, 0)
                : ip.contains(":")
                ? new HAProxyMessage(HAProxyProtocolVersion.V2, command, HAProxyProxiedProtocol.TCP6, ip,
                        "2001:db8::fe", port, 7000)
                : new HAProxyMessage(HAProxyProtocolVersion.V2, command, HAProxyProxiedProtocol.TCP4, ip,
                        "192.0.2.250", port, 7000);
        EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        encoder.writeOutbound(m);
        ByteBuf b = encoder.readOutbound();
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
            encoder.finishAndReleaseAll();
        }
    }

    private static byte[] concat(byte[] header, String swb) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header);
        out.writeBytes(swb.getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
