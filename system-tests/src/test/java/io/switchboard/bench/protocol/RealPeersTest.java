package io.switchboard.bench.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.switchboard.bench.BenchCommand;
import io.switchboard.server.GatewayFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * The bench clients against real servers over loopback: fifty of them through {@code switchboard bench} itself
 * (ramp, per-loop sweep, counters; exit 0 only when every one is established), and one message published to a
 * client through each peer. Peers that are not installed are skipped.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RealPeersTest {
    private static final int CLIENTS = 50;
    private static final int SOCKET_TIMEOUT_MS = 5_000;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final RecordingEnv env = new RecordingEnv();

    @AfterEach
    void tearDown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static Path installed(String binary) {
        var path = Peer.binary(binary);
        Assumptions.assumeTrue(path.isPresent(), binary + " is not installed");
        return path.get();
    }

    /** Runs {@code switchboard bench} holding {@link #CLIENTS} clients; asserts exit 0 (all established). */
    private static void assertBenchHoldsAll(int port, String... protocolArgs) {
        StringWriter out = new StringWriter();
        CommandLine cmd = new CommandLine(new BenchCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(out, true));
        List<String> args = new ArrayList<>(List.of("--target", "127.0.0.1:" + port, "--connections",
                String.valueOf(CLIENTS), "--rate", "5000", "--hold", "0s", "--api", "none", "--event-loops", "1",
                "--transport", "nio", "--id-prefix", "t-"));
        args.addAll(List.of(protocolArgs));
        int exit = cmd.execute(args.toArray(String[]::new));
        assertEquals(0, exit, out.toString());
    }

    /**
     * Runs {@code switchboard bench} publishing 100 pushes/s for a second through {@code --publish-via} and timing a
     * broadcast the same way; asserts every push and the broadcast reached every client.
     */
    private static void assertBenchPublishesAndBroadcasts(int port, String... args) throws IOException {
        Path json = Files.createTempFile("bench-peer", ".json");
        try {
            StringWriter out = new StringWriter();
            CommandLine cmd = new CommandLine(new BenchCommand());
            cmd.setOut(new PrintWriter(out, true));
            cmd.setErr(new PrintWriter(out, true));
            List<String> all = new ArrayList<>(List.of("--target", "127.0.0.1:" + port, "--connections",
                    String.valueOf(CLIENTS), "--rate", "5000", "--hold", "3s", "--event-loops", "1", "--transport",
                    "nio", "--id-prefix", "b-", "--push-rate", "100", "--push-duration", "1s", "--push-warmup", "0s",
                    "--broadcast", "--json", json.toString()));
            all.addAll(List.of(args));
            assertEquals(0, cmd.execute(all.toArray(String[]::new)), out.toString());
            var r = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
            assertEquals(0, r.get("pushes_failed").asLong(), out.toString());
            assertTrue(r.get("pushes_sent").asLong() >= 90, out.toString());
            assertEquals(r.get("pushes_sent").asLong(), r.get("pushes_received").asLong(), out.toString());
            assertEquals(CLIENTS, r.get("broadcast_received").asLong(), out.toString());
            assertTrue(r.get("broadcast_last_arrival_ms").asLong() >= 0, out.toString());
        } finally {
            Files.deleteIfExists(json);
        }
    }

    @Test
    void shouldPublishAndBroadcastThroughRealRedis() throws IOException {
        try (Peer peer = Peer.redis(installed("redis-server"))) {
            assertBenchPublishesAndBroadcasts(peer.port, "--protocol", "redis", "--publish-via", "redis", "--api",
                    "none");
        }
    }

    @Test
    void shouldPublishAndBroadcastThroughRealNatsServer() throws IOException {
        try (Peer peer = Peer.nats(installed("nats-server"))) {
            assertBenchPublishesAndBroadcasts(peer.port, "--protocol", "nats", "--publish-via", "nats", "--api",
                    "none");
        }
    }

    @Test
    void shouldPublishAndBroadcastThroughRealMosquitto() throws IOException {
        try (Peer peer = Peer.mosquitto(installed("mosquitto"))) {
            assertBenchPublishesAndBroadcasts(peer.port, "--protocol", "mqtt", "--publish-via", "mqtt", "--api",
                    "none");
        }
    }

    @Test
    void shouldPublishAndBroadcastThroughSwitchboardsApiPipelined() throws Exception {
        try (GatewayFixture gateway = new GatewayFixture().start()) {
            assertBenchPublishesAndBroadcasts(gateway.server().port(), "--api", "http://127.0.0.1:"
                    + gateway.server().apiPort(), "--publish-via", "http");
        }
    }

    /** One client on its own, reporting to {@link #env}; returns once it is established. */
    private BenchConnection connectOne(String protocol, int port, int hbSec) throws InterruptedException {
        BenchConnection conn = (BenchConnection) BenchProtocol.parse(protocol, protocol.equals("raw"), hbSec)
                .newHandler(env, "p1", hbSec, System.nanoTime());
        new Bootstrap().group(group).channel(NioSocketChannel.class).handler(conn)
                .connect(new InetSocketAddress("127.0.0.1", port)).sync();
        env.await(() -> env.established() == 1, protocol + " client established");
        return conn;
    }

    private void assertTimedMessageArrives() throws InterruptedException {
        // Counted first, then timed: wait for both.
        env.await(() -> env.messages() == 1 && env.pushLatenciesUs().size() == 1,
                "the published message arrived and was timed");
        assertEquals(List.of(), env.errors());
    }

    @Test
    void shouldHoldAllMqttClientsOnRealMosquitto() throws IOException {
        try (Peer peer = Peer.mosquitto(installed("mosquitto"))) {
            assertBenchHoldsAll(peer.port, "--protocol", "mqtt");
        }
    }

    @Test
    void shouldHoldAllRedisClientsOnRealRedis() throws IOException {
        try (Peer peer = Peer.redis(installed("redis-server"))) {
            assertBenchHoldsAll(peer.port, "--protocol", "redis");
        }
    }

    @Test
    void shouldHoldAllNatsClientsOnRealNatsServer() throws IOException {
        try (Peer peer = Peer.nats(installed("nats-server"))) {
            assertBenchHoldsAll(peer.port, "--protocol", "nats");
        }
    }

    @Test
    void shouldHoldAllSwbClientsOnSwitchboard() throws Exception {
        try (GatewayFixture gateway = new GatewayFixture().start()) {
            assertBenchHoldsAll(gateway.server().port());
        }
    }

    @Test
    void shouldHoldAllRawClientsWithEchoCheckOnEchoServer() throws InterruptedException {
        Channel echo = echoServer();
        try {
            assertBenchHoldsAll(((InetSocketAddress) echo.localAddress()).getPort(), "--protocol", "raw",
                    "--echo-check", "--hb", "1");
        } finally {
            echo.close().sync();
        }
    }

    @Test
    void shouldReceiveMessagePublishedOnRealMosquitto() throws Exception {
        try (Peer peer = Peer.mosquitto(installed("mosquitto"))) {
            connectOne("mqtt", peer.port, 30);
            try (Socket s = socket(peer.port)) {
                OutputStream out = s.getOutputStream();
                out.write(mqttPacket(0x10, concat(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30},
                        mqttString("publisher"))));
                byte[] connack = s.getInputStream().readNBytes(4);
                assertEquals(0, connack[3], "CONNACK return code");
                out.write(mqttPacket(0x30, concat(mqttString("bench/p1"), ascii(Wire.pushPayload(0)))));
                out.write(new byte[] {(byte) 0xE0, 0}); // DISCONNECT
                out.flush();
            }
            assertTimedMessageArrives();
        }
    }

    @Test
    void shouldReceiveMessagePublishedOnRealRedis() throws Exception {
        try (Peer peer = Peer.redis(installed("redis-server"))) {
            connectOne("redis", peer.port, 30);
            try (Socket s = socket(peer.port)) {
                String payload = Wire.pushPayload(0);
                s.getOutputStream().write(ascii("*3\r\n$7\r\nPUBLISH\r\n$8\r\nbench:p1\r\n$" + payload.length()
                        + "\r\n" + payload + "\r\n"));
                assertEquals(":1", readLine(s.getInputStream()), "PUBLISH reached one subscriber");
            }
            assertTimedMessageArrives();
        }
    }

    @Test
    void shouldReceiveMessagePublishedOnRealNatsServer() throws Exception {
        try (Peer peer = Peer.nats(installed("nats-server"))) {
            connectOne("nats", peer.port, 30);
            try (Socket s = socket(peer.port)) {
                assertTrue(readLine(s.getInputStream()).startsWith("INFO "));
                String payload = Wire.pushPayload(0);
                s.getOutputStream().write(ascii(NatsBenchConnection.CONNECT + "PUB bench.p1 " + payload.length()
                        + "\r\n" + payload + "\r\nPING\r\n"));
                assertEquals("PONG", readLine(s.getInputStream()));
            }
            assertTimedMessageArrives();
        }
    }

    @Test
    void shouldGetEchoProbeBackThroughRealSocket() throws InterruptedException {
        Channel echo = echoServer();
        try {
            BenchConnection conn = connectOne("raw", ((InetSocketAddress) echo.localAddress()).getPort(), 1);
            conn.ctx.channel().eventLoop().execute(() -> conn.heartbeat(Wire.inSeconds(1)));
            env.await(() -> env.messages() == 1, "the echo came back");
            assertEquals(List.of(), env.errors());
        } finally {
            echo.close().sync();
        }
    }

    /** A TCP echo server on a free loopback port, on the test's event loop. */
    private Channel echoServer() throws InterruptedException {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new Echo()).bind("127.0.0.1", 0).sync().channel();
    }

    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    private static Socket socket(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(SOCKET_TIMEOUT_MS);
        return s;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("closed after " + line);
            }
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    private static byte[] mqttPacket(int header, byte[] body) {
        assertTrue(body.length < 128, "one-byte remaining length");
        return concat(new byte[] {(byte) header, (byte) body.length}, body);
    }

    private static byte[] mqttString(String s) {
        return concat(new byte[] {0, (byte) s.length()}, ascii(s));
    }

    private static byte[] ascii(String s) {
        return Wire.ascii(s);
    }

    private static byte[] concat(byte[]... parts) {
        return Wire.concat(parts);
    }
}
