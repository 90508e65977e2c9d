package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.switchboard.auth.Authenticator;
import io.switchboard.clock.ManualClock;
import io.switchboard.config.GatewayServices;
import io.switchboard.config.ServerConfig;
import io.switchboard.limits.ConnectionGuard;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.PushResult;
import io.switchboard.session.Message;
import io.switchboard.session.Session;
import io.switchboard.session.SessionRegistry;
import io.switchboard.session.SessionShard;
import io.switchboard.upstream.UpstreamSink;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A second protocol plugs into the same session core through {@link ClientConnection}: a toy line protocol
 * ({@code LOGIN id} / {@code OK seq} / {@code M seq text} / {@code DONE seq} / {@code GONE code text}) written here in
 * a few lines gets admission, the session, pushes, acks, takeover and the lingering close for free.
 */
class ProtocolSeamTest {
    /** The toy protocol's adapter. */
    static final class ToyAdapter implements ProtocolAdapter {
        final ShardContext.PerLoop<ToyAdapter> contexts;

        ToyAdapter(GatewayContext shared) {
            contexts = new ShardContext.PerLoop<>(shared, this);
        }

        @Override
        public String name() {
            return "toy";
        }

        @Override
        public String bind() {
            return "127.0.0.1";
        }

        @Override
        public int port() {
            return 0;
        }

        @Override
        public void initChannel(Channel ch) {
            ch.pipeline().addLast(new ToyConnection(contexts.of(ch.eventLoop())));
        }
    }

    /** The toy protocol's connection: one line per frame. */
    static final class ToyConnection extends ClientConnection<ToyAdapter> {
        ToyConnection(ShardContext<ToyAdapter> at) {
            super(at);
        }

        @Override
        protected void decode(ByteBuf in) {
            int lf;
            while (!inputPaused() && (lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n')) >= 0) {
                String line = in.readCharSequence(lf - in.readerIndex(), StandardCharsets.US_ASCII).toString();
                in.skipBytes(1);
                if (beforeHello()) {
                    if (!line.startsWith("LOGIN ")) {
                        protocolError(400, "login first", io.switchboard.metrics.Refusal.MALFORMED_FRAME);
                        return;
                    }
                    hello(line.substring(6), null, 0, -1);
                } else if (line.startsWith("DONE ")) {
                    session().ack(Long.parseLong(line.substring(5)));
                }
            }
        }

        @Override
        protected void writeWelcome(Session s, int hbSec) {
            ctx.write(text("OK " + s.lastSeq()));
        }

        @Override
        protected Object goodbye(int code, String text, long retryMs) {
            return text("GONE " + code + " " + text);
        }

        @Override
        public void writeMessage(Message m) {
            ctx.write(text("M " + m.seq() + " " + new String(m.payload(), StandardCharsets.US_ASCII)));
        }

        private ByteBuf text(String line) {
            return Unpooled.copiedBuffer(line + "\n", StandardCharsets.US_ASCII);
        }
    }

    private final ManualClock clock = new ManualClock();
    private final GatewayMetrics metrics = new GatewayMetrics();
    private final Map<EventLoop, SessionShard> shards = new IdentityHashMap<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private SessionRegistry registry;
    private GatewayContext shared;

    @AfterEach
    void tearDown() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private void start() {
        ServerConfig.Builder b = new ServerConfig.Builder();
        b.seqOriginFromClock = false;
        ServerConfig config = b.build();
        registry = new SessionRegistry(new SessionRegistry.Limits(config.windowMessages,
                config.maxQueuedMessagesPerClient, config.maxQueuedBytesPerClient, config.maxPayloadBytes,
                config.maxTtlSec, config.seqOriginFromClock, config.maxOfflineSessions), metrics);
        shared = new GatewayContext(config, new GatewayServices(Authenticator.NONE, UpstreamSink.NONE, clock),
                registry, new ConnectionGuard(config.maxConnections, 0, 0, clock), metrics,
                loop -> shards.computeIfAbsent(loop, l -> registry.addShard(l, clock)));
    }

    private EmbeddedChannel connect(ProtocolAdapter adapter) {
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelInitializer<EmbeddedChannel>() {
            @Override
            protected void initChannel(EmbeddedChannel c) {
                adapter.initChannel(c);
            }
        });
        channels.add(ch);
        return ch;
    }

    /** Runs the embedded loops (they run tasks only when asked) until {@code f} completes. */
    private <T> T await(java.util.concurrent.CompletableFuture<T> f) {
        for (int i = 0; i < 10 && !f.isDone(); i++) {
            channels.forEach(EmbeddedChannel::runPendingTasks);
        }
        assertTrue(f.isDone(), "completed on the loops");
        return f.join();
    }

    private static String out(EmbeddedChannel ch) {
        ch.runPendingTasks();
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return sb.toString();
    }

    private static void send(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    @Test
    void shouldServeASecondProtocolFromTheSameSessionCore() {
        start();
        ToyAdapter toy = new ToyAdapter(shared);
        EmbeddedChannel ch = connect(toy);
        send(ch, "LOGIN dev1\n");
        assertEquals("OK 0\n", out(ch));
        assertEquals(1, metrics.sessionsOnline.get());

        PushResult r = await(registry.pushes().push("dev1", "hi".getBytes(StandardCharsets.US_ASCII), 60));
        assertEquals(200, r.status());
        assertTrue(r.delivered());
        assertEquals("M 1 hi\n", out(ch));
        send(ch, "DONE 1\n");
        assertEquals(0, await(registry.pushes().info("dev1")).queued(), "the ack reached the session");
    }

    @Test
    void shouldTakeOverASessionAcrossProtocols() {
        start();
        ToyAdapter toy = new ToyAdapter(shared);
        io.switchboard.protocol.swb.SwbAdapter swb = new io.switchboard.protocol.swb.SwbAdapter(shared);
        EmbeddedChannel toyClient = connect(toy);
        send(toyClient, "LOGIN dev1\n");
        out(toyClient);
        await(registry.pushes().push("dev1", "kept".getBytes(StandardCharsets.US_ASCII), 60));
        assertEquals("M 1 kept\n", out(toyClient));

        EmbeddedChannel swbClient = connect(swb);
        send(swbClient, "HELLO dev1 resume=0\n");
        toyClient.runPendingTasks();
        swbClient.runPendingTasks();
        assertEquals("GONE 409 taken over\n", out(toyClient), "the older connection hears why, in its protocol");
        assertEquals("WELCOME dev1 v=1 hb=60 seq=1\nMSG 1 4\nkept\n", out(swbClient),
                "the stored message follows the session into the other protocol");
        assertEquals(1, metrics.takeovers.sum());
    }

    @Test
    void shouldCloseWithTheProtocolsGoodbyeOnAProtocolError() {
        start();
        EmbeddedChannel ch = connect(new ToyAdapter(shared));
        send(ch, "HELLO x\n");
        assertEquals("GONE 400 login first\n", out(ch));
        assertFalse(ch.isOpen());
        assertEquals(1, metrics.refusals(io.switchboard.metrics.Refusal.MALFORMED_FRAME));
    }
}
