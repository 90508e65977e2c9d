package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.switchboard.transport.Transport;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;

/** Forwarding, backpressure pacing and half-close behave the same on every transport. */
@Timeout(60)
class ProxyTransportTest {
    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void shouldForwardAStreamIntactAndPassTheFinOnEveryTransport(Transport transport) throws Exception {
        assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "epoll unavailable");
        assumeTrue(transport != Transport.IO_URING || IoUring.isAvailable(), "io_uring unavailable");
        TestUpstream echo = fx.upstream(TestUpstream.ECHO);
        fx.config.transport = transport;
        fx.start(echo.address());
        byte[] sent = Bytes.random(7, 1024 * 1024 + 7);
        Socket s = fx.connect();
        Bytes.echoed(s, sent, true);
        assertEquals(-1, s.getInputStream().read(), "the FIN came back through the proxy");
        ProxyFixture.await("released", () -> fx.proxy().metrics().active.get() == 0);
        assertEquals(0, fx.proxy().queuedBytes());
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void shouldDeliverTheReplyAfterTheClientFinOnEveryTransport(Transport transport) throws Exception {
        assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "epoll unavailable");
        assumeTrue(transport != Transport.IO_URING || IoUring.isAvailable(), "io_uring unavailable");
        TestUpstream counter = fx.upstream(s -> {
            byte[] request = s.getInputStream().readAllBytes();
            s.getOutputStream().write(("got " + request.length).getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
        });
        fx.config.transport = transport;
        fx.start(counter.address());
        Socket s = fx.connect();
        s.getOutputStream().write(new byte[100_000]);
        s.shutdownOutput();
        assertEquals("got 100000", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
    }
}
