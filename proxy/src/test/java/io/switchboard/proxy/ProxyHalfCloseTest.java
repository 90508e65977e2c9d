package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A FIN from either side reaches the other while the opposite direction keeps flowing. */
@Timeout(30)
class ProxyHalfCloseTest {
    private final ProxyFixture fx = new ProxyFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void shouldPassClientFinToUpstreamAndStillDeliverTheReply() throws Exception {
        // The upstream answers only after the request ended: it needs the client's FIN to arrive.
        TestUpstream counter = fx.upstream(s -> {
            byte[] request = s.getInputStream().readAllBytes();
            s.getOutputStream().write(("got " + request.length + " bytes").getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
        });
        fx.start(counter.address());
        Socket s = fx.connect();
        s.getOutputStream().write(new byte[12_345]);
        s.shutdownOutput();
        String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertEquals("got 12345 bytes", reply);
        ProxyFixture.await("connection closed after both FINs", () -> fx.proxy().metrics().active.get() == 0);
    }

    /**
     * Regression: after the client's FIN, Netty 4.2.18's epoll drops the client socket from the epoll set (no
     * interest left) and a later write that needs EPOLLOUT failed with ENOENT, which shut the output and lost the
     * rest of the reply (fixed by {@code EpollRearm}). The client half-closes at once and reads only after the proxy
     * filled its socket.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(io.switchboard.transport.Transport.class)
    void shouldDeliverAWholeLargeReplyToAClientThatHalfClosedAndReadsLate(io.switchboard.transport.Transport transport)
            throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(transport.isAvailable(), transport + " unavailable");
        fx.config.transport = transport;
        byte[] reply = Bytes.random(99, 24 * 1024 * 1024 + 5); // more than the loopback socket buffers hold
        TestUpstream server = fx.upstream(s -> {
            s.getInputStream().readAllBytes(); // the request, until the client's FIN
            s.getOutputStream().write(reply);
            s.shutdownOutput();
        });
        fx.start(server.address());
        for (int round = 0; round < 3; round++) {
            // Read before the request ends: the upstream's answer may fill the client's socket at once after the FIN.
            long before = fx.proxy().metrics().bytesToClient.sum();
            try (Socket s = fx.connect()) {
                s.getOutputStream().write("GET it".getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                ProxyFixture.await("the proxy blocked on the client's full socket", () -> blockedOnClient(before));
                byte[] got = s.getInputStream().readAllBytes();
                assertEquals(reply.length, got.length, "the whole reply, then EOF");
                assertEquals(Bytes.crc(reply, 0, reply.length), Bytes.crc(got, 0, got.length));
            }
        }
        assertEquals(0, fx.proxy().metrics().loopErrors.sum());
    }

    @Test
    void shouldWaitForAClosingClientThatReadsItsReplySlowly() throws Exception {
        ChannelEnds.closeFlushLimitMs = 300; // 60 s in production
        try {
            byte[] reply = Bytes.random(7, 1024 * 1024);
            TestUpstream server = fx.upstream(s -> {
                s.getInputStream().readAllBytes(); // the request, until the client's FIN
                s.getOutputStream().write(reply);
                s.shutdownOutput();
            });
            fx.start(server.address());
            try (Socket slow = fx.connect()) { // reads its reply over several times the limit, a little at a time
                slow.getOutputStream().write("GET it".getBytes(StandardCharsets.US_ASCII));
                slow.shutdownOutput();
                java.io.InputStream in = slow.getInputStream();
                java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                byte[] buf = new byte[8 * 1024];
                for (int n; (n = in.read(buf)) >= 0; ) { // ~400 KB/s: what the proxy holds after the upstream's FIN
                    got.write(buf, 0, n);                  // takes longer than the limit to go
                    Thread.sleep(20);
                }
                assertEquals(reply.length, got.size(), "the whole reply, however slowly read");
                assertEquals(Bytes.crc(reply, 0, reply.length), Bytes.crc(got.toByteArray(), 0, got.size()));
            }
            assertEquals(0, fx.proxy().metrics().closeFlushCutOff.sum());
        } finally {
            ChannelEnds.closeFlushLimitMs = 60_000;
        }
    }

    /** True once forwarding towards the client moved bytes and then stalled for 200 ms (its socket is full). */
    private boolean blockedOnClient(long before) {
        try {
            long a = fx.proxy().metrics().bytesToClient.sum();
            Thread.sleep(200);
            return a > before && fx.proxy().metrics().bytesToClient.sum() == a;
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void shouldPassUpstreamFinToClientAndKeepForwardingTheOtherWay() throws Exception {
        CompletableFuture<String> upstreamGot = new CompletableFuture<>();
        TestUpstream talker = fx.upstream(s -> {
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            upstreamGot.complete(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
        });
        fx.start(talker.address());
        Socket s = fx.connect();
        InputStream in = s.getInputStream();
        assertEquals("hello", new String(Bytes.readExactly(in, 5), StandardCharsets.US_ASCII));
        assertEquals(-1, in.read(), "the upstream's FIN reaches the client");
        s.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
        s.shutdownOutput();
        assertEquals("still here", upstreamGot.get(10, TimeUnit.SECONDS));
        ProxyFixture.await("connection closed after both FINs", () -> fx.proxy().metrics().active.get() == 0);
    }

    @Test
    void shouldCloseUpstreamWhenClientResets() throws Exception {
        CompletableFuture<Integer> upstreamRead = new CompletableFuture<>();
        TestUpstream sink = fx.upstream(s -> {
            try {
                upstreamRead.complete(s.getInputStream().read());
            } catch (java.io.IOException e) {
                upstreamRead.complete(-2);
            }
        });
        fx.start(sink.address());
        Socket s = fx.connect();
        ProxyFixture.await("upstream connected", () -> sink.accepted.get() == 1);
        s.setSoLinger(true, 0);
        s.close(); // RST
        assertEquals(-1, (int) upstreamRead.get(10, TimeUnit.SECONDS), "upstream sees the proxy's close");
        ProxyFixture.await("connection released", () -> fx.proxy().metrics().active.get() == 0);
    }
}
