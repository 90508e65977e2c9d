package io.switchboard.protocol.swb;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.switchboard.auth.Authenticator;
import io.switchboard.config.ServerConfig;
import io.switchboard.config.GatewayServices;
import io.switchboard.connection.GatewayContext;
import io.switchboard.upstream.UpstreamSink;
import io.switchboard.limits.ConnectionGuard;
import io.switchboard.session.SessionShard;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.service.PushResult;
import io.switchboard.session.SessionRegistry;
import io.switchboard.clock.ManualClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** Drives SWB/1 connections on EmbeddedChannels: each channel is its own event loop with its own SessionShard. */
final class SwbRig {
    final ManualClock clock = new ManualClock();
    final ServerConfig.Builder config = new ServerConfig.Builder();
    Authenticator authenticator = Authenticator.NONE;
    final GatewayMetrics metrics = new GatewayMetrics();
    final Map<EventLoop, SessionShard> loops = new IdentityHashMap<>();
    final List<EmbeddedChannel> channels = new ArrayList<>();
    SessionRegistry registry;
    /** Where stored messages go; replace before {@link #start()}. */
    io.switchboard.store.MessageStore store = new io.switchboard.store.MemoryStore();
    SwbAdapter adapter;
    ConnectionGuard guard;

    SwbRig() {
        config.seqOriginFromClock = false; // seq 1, 2, 3 keeps expectations readable; the clock origin has its own test
    }

    /** Freezes the configuration; call after adjusting {@link #config}. */
    SwbRig start() {
        ServerConfig config = this.config.build();
        registry = new SessionRegistry(new SessionRegistry.Limits(config.windowMessages,
                config.maxQueuedMessagesPerClient, config.maxQueuedBytesPerClient, config.maxPayloadBytes,
                config.maxTtlSec, config.seqOriginFromClock, config.maxOfflineSessions), metrics, store);
        guard = new ConnectionGuard(config.maxConnections, config.maxConnectionsPerIp,
                config.acceptRatePerSec, clock);
        GatewayServices services = new GatewayServices(authenticator, UpstreamSink.NONE, clock);
        context = new GatewayContext(config, services, registry, guard, metrics,
                loop -> loops.computeIfAbsent(loop, l -> registry.addShard(l, clock)));
        adapter = new SwbAdapter(context);
        return this;
    }

    /** What the adapters share; set by {@link #start()}. */
    GatewayContext context;

    /** A connection to the WebSocket listener (its framing in front, as the server sets it up), not upgraded yet. */
    EmbeddedChannel connectOverWebSocket() {
        io.switchboard.protocol.ws.WebSocketAdapter ws = new io.switchboard.protocol.ws.WebSocketAdapter(context);
        EmbeddedChannel ch = new EmbeddedChannel(new io.netty.channel.ChannelInitializer<EmbeddedChannel>() {
            @Override
            protected void initChannel(EmbeddedChannel c) {
                ws.initChannel(c);
            }
        });
        channels.add(ch);
        return ch;
    }

    EmbeddedChannel connect() {
        EmbeddedChannel ch = new EmbeddedChannel(new io.netty.channel.ChannelInitializer<EmbeddedChannel>() {
            @Override
            protected void initChannel(EmbeddedChannel c) {
                if (config.acceptProxy) {
                    c.pipeline().addLast(new HAProxyMessageDecoder()); // as GatewayServer sets it up
                }
                c.pipeline().addLast(adapter.newConnection(c));
            }
        });
        channels.add(ch);
        return ch;
    }

    static void send(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    static void send(EmbeddedChannel ch, byte[] bytes) {
        ch.writeInbound(Unpooled.copiedBuffer(bytes));
    }

    /** Everything the server wrote so far, as one string (frames concatenated). */
    static String out(EmbeddedChannel ch) {
        ch.runPendingTasks();
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            try {
                sb.append(b.toString(StandardCharsets.ISO_8859_1));
            } finally {
                b.release();
            }
        }
        return sb.toString();
    }

    void runAll() {
        for (int i = 0; i < 5; i++) {
            channels.forEach(EmbeddedChannel::runPendingTasks);
        }
    }

    PushResult push(String id, String payload, int ttl) {
        AtomicReference<PushResult> r = new AtomicReference<>();
        registry.pushes().push(id, payload.getBytes(StandardCharsets.ISO_8859_1), ttl).thenAccept(r::set);
        runAll();
        if (r.get() == null) {
            throw new AssertionError("push not answered");
        }
        return r.get();
    }

    void tick() {
        loops.values().forEach(SessionShard::tick);
        runAll();
    }

    void close() {
        channels.forEach(ch -> {
            ch.finishAndReleaseAll();
        });
    }
}
