package io.switchboard.protocol.swb;

import static io.switchboard.protocol.swb.SwbRig.out;
import static io.switchboard.protocol.swb.SwbRig.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.switchboard.metrics.Refusal;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code --accept-proxy} on one connection: the decoder in front, the header's address, and the wheel deadline. */
class SwbProxyHeaderTest {
    private final SwbRig rig = new SwbRig();

    @AfterEach
    void tearDown() {
        rig.close();
    }

    @Test
    void shouldAdmitOnlyOnceTheHeaderIsCompleteThenDropTheDecoder() {
        rig.config.acceptProxy = true;
        rig.start();
        EmbeddedChannel ch = rig.connect();
        send(ch, "PROXY TCP4 192.0.2.1 ");
        send(ch, "192.0.2.2 4000 7");
        assertEquals(0, rig.guard.open(), "not admitted before the header is complete");
        assertTrue(ch.pipeline().get(HAProxyMessageDecoder.class) != null);

        send(ch, "000\r\nHELLO al");
        assertEquals(1, rig.guard.open());
        assertNull(ch.pipeline().get(HAProxyMessageDecoder.class), "the decoder leaves after the header");
        send(ch, "ice\nPING\n");
        assertEquals("WELCOME alice v=1 hb=60 seq=0\nPONG\n", out(ch));
    }

    @Test
    void shouldCloseWhenNoHeaderCameWithinTheTimeoutOnTheLoopWheel() {
        rig.config.acceptProxy = true;
        rig.config.acceptProxyTimeoutSec = 3;
        rig.start();
        EmbeddedChannel ch = rig.connect();
        rig.clock.advanceSec(2);
        rig.tick();
        assertTrue(ch.isOpen());
        rig.clock.advanceSec(2);
        rig.tick();
        assertFalse(ch.isOpen());
        assertEquals("", out(ch), "no BYE: the peer has not spoken SWB/1");
        assertEquals(1, rig.metrics.refusals(Refusal.PROXY_HEADER));
        assertEquals(0, rig.metrics.refusals(Refusal.HANDSHAKE_TIMEOUT));
    }

    @Test
    void shouldCountAMalformedHeaderOnceAndNotAsAnError() {
        rig.config.acceptProxy = true;
        rig.start();
        EmbeddedChannel ch = rig.connect();
        send(ch, "PROXY TCP4 999.0.0.1 192.0.2.2 1 2\r\nPROXY TCP4 also wrong\r\n");
        rig.runAll();
        assertFalse(ch.isOpen());
        assertEquals(1, rig.metrics.refusals(Refusal.PROXY_HEADER));
        assertEquals(0, rig.metrics.loopErrors.sum());
        assertEquals(0, rig.guard.open());
    }

    @Test
    void shouldReadTheSourceOfTcpHeadersOnly() {
        assertEquals(new InetSocketAddress("192.0.2.1", 5555), source(HAProxyProxiedProtocol.TCP4, "192.0.2.1"));
        assertEquals(new InetSocketAddress("2001:db8::1", 5555), source(HAProxyProxiedProtocol.TCP6, "2001:db8::1"));
        InetSocketAddress mapped = source(HAProxyProxiedProtocol.TCP6, "::ffff:192.0.2.1");
        assertInstanceOf(Inet4Address.class, mapped.getAddress(), "counted as the IPv4 address it is");
        assertEquals("192.0.2.1", mapped.getAddress().getHostAddress());
        assertNull(source(HAProxyProxiedProtocol.UDP4, "192.0.2.1"));
        HAProxyMessage local = new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
        try {
            assertNull(io.switchboard.connection.ClientConnection.announcedSource(local));
        } finally {
            local.release();
        }
    }

    private static InetSocketAddress source(HAProxyProxiedProtocol protocol, String ip) {
        String destination = protocol == HAProxyProxiedProtocol.TCP6 ? "2001:db8::2" : "192.0.2.2";
        HAProxyMessage m = new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, protocol, ip,
                destination, 5555, 7000);
        try {
            return io.switchboard.connection.ClientConnection.announcedSource(m);
        } finally {
            m.release();
        }
    }
}
