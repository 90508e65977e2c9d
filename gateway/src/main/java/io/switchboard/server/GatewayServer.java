package io.switchboard.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.api.ApiServer;
import io.switchboard.api.ApiSettings;
import io.switchboard.config.GatewayServices;
import io.switchboard.config.ServerConfig;
import io.switchboard.limits.ConnectionGuard;
import io.switchboard.loop.LoopTasks;
import io.switchboard.process.DrainWaiter;
import io.switchboard.session.ShardMember;
import io.switchboard.session.SessionShard;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.connection.GatewayContext;
import io.switchboard.connection.ProtocolAdapter;
import io.switchboard.protocol.mqtt.MqttAdapter;
import io.switchboard.protocol.swb.SwbAdapter;
import io.switchboard.protocol.ws.WebSocketAdapter;
import io.switchboard.session.RetainedMessages;
import io.switchboard.transport.ServerTls;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.switchboard.session.SessionRegistry;
import io.switchboard.cluster.ClusterProvider;
import io.switchboard.store.MemoryStore;
import io.switchboard.store.MessageStore;
import io.switchboard.store.disk.DiskStore;
import io.switchboard.transport.LocalAddressSharing;
import io.switchboard.transport.Transport;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's composition root: the event loops and their session shards, the session registry and store, one
 * listener per protocol adapter (SWB/1, MQTT, WebSocket) and the backend API.
 * {@link #start} binds everything; {@link #drain} stops accepting and sends clients away spread over the drain
 * period; {@link #close} stops at once. Thread-safe.
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);
    /**
     * Reads of one socket per event-loop turn (16 KiB with 4 KiB reads): a client with a backlog waits for the next
     * turn instead of holding the loop while the others wait (Netty's default is 16).
     */
    private static final int MAX_READS_PER_TURN = 4;
    /** Client frames are small; a larger payload takes a few reads. Stateless, so shared by every channel. */
    private static final RecvByteBufAllocator READ_ALLOCATOR = new FixedRecvByteBufAllocator(4096)
            .maxMessagesPerRead(MAX_READS_PER_TURN);
    /**
     * Type-length-value bytes a PROXY v2 header may carry beyond the addresses (proxies send a few: unique id, TLS
     * details); a longer header is refused instead of buffered while a connection is not yet admitted.
     */
    static final int MAX_PROXY_TLV_BYTES = 4096;

    private final ServerConfig config;
    private final GatewayServices services;
    private final GatewayMetrics metrics = new GatewayMetrics();
    private final EventLoopGroup group;
    private final List<SessionShard> loops;
    private final SessionRegistry registry;
    /** Stored messages (ttl > 0): on disk or in memory ({@code --store}). */
    private final MessageStore store;
    /** Set by the first {@link #close()}. */
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    /** Open until the first {@link #close()} has finished. */
    private final CountDownLatch closed = new CountDownLatch(1);
    /** This node's membership of a cluster ({@code --cluster}), or null in one process. */
    private final ClusterProvider.Cluster cluster;
    private final ConnectionGuard guard;
    private final List<ProtocolAdapter> adapters;
    /** SWB/1's "ack at least every 32 messages, or 1 s after the oldest" (docs/protocol.md). */
    private static final int SWB_ACK_EVERY = 32;
    /** One per adapter, in the same order. */
    private final List<Channel> listeners;
    private final ApiServer api;
    private final long startedAtMs;
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean draining;
    /** Why the server drains by itself (it is no longer the cluster node it joined as), or null. */
    private volatile String leftBecause;

    private GatewayServer(ServerConfig config, GatewayServices services) throws InterruptedException {
        this.config = config;
        this.services = services;
        if (services.authenticator() instanceof io.switchboard.auth.JwtAuthenticator jwt) {
            log.info("auth: {}", jwt);
        }
        if (config.windowMessages < SWB_ACK_EVERY) {
            // SWB/1 lets a client wait for 32 messages (or 1 s) before its ACK: with a smaller window each client
            // is sent its window and then nothing, up to a second. MQTT clients answer each message, unaffected.
            log.warn("--window {} is below {}: SWB/1 clients may acknowledge only every {} messages or after 1 s, "
                    + "so each can be sent at most {} messages per second; set --window {} or more unless that is "
                    + "meant", config.windowMessages, SWB_ACK_EVERY, SWB_ACK_EVERY, config.windowMessages,
                    SWB_ACK_EVERY);
        }
        this.startedAtMs = services.clock().nowMs();
        config.transport.ensureAvailable();
        if (config.reusePort && !config.transport.supportsReusePort()) {
            throw new IllegalArgumentException("--reuse-port needs --transport epoll or io_uring");
        }
        // Half-closing: the API's connections on these loops answer what was read before a FIN (Transport).
        group = config.transport.newHalfClosingGroup(config.eventLoops, new DefaultThreadFactory("swb-loop", true));
        try {
            this.cluster = config.cluster == null ? null : ClusterProvider.load().open(config, metrics,
                    services.clock(), group);
            this.store = cluster != null ? cluster.store() : openStore(config, services);
        } catch (RuntimeException | Error e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            throw e;
        }
        // From here a start that fails half-way (Redis gone while the cluster loads its retained messages, a port
        // taken, ...) leaves the cluster, stops the loops and closes the store it opened: nothing stays behind in a
        // process that goes on (a test's JVM).
        try {
            this.registry = new SessionRegistry(new SessionRegistry.Limits(config.windowMessages,
                    config.maxQueuedMessagesPerClient, config.maxQueuedBytesPerClient, config.maxPayloadBytes,
                    config.maxTtlSec, config.seqOriginFromClock, config.maxOfflineSessions, config.maxQueuedTotalBytes),
                    metrics, store, new RetainedMessages(config.maxRetained, config.maxRetainedBytes));
            List<SessionShard> shards = new ArrayList<>();
            Map<EventLoop, SessionShard> byLoop = new IdentityHashMap<>();
            for (EventExecutor e : group) {
                SessionShard s = registry.addShard((EventLoop) e, services.clock());
                shards.add(s);
                byLoop.put(s.eventLoop(), s);
            }
            this.loops = List.copyOf(shards);
            if (cluster != null) {
                registry.useDirectory(cluster.directory());
                cluster.start(registry);
            }
            this.guard = new ConnectionGuard(config.maxConnections, config.maxConnectionsPerIp, config.acceptRatePerSec,
                    services.clock());
            GatewayContext shared = new GatewayContext(config, services, registry, guard, metrics,
                    Map.copyOf(byLoop)::get);
            // The protocols clients speak: each binds its own listener onto the same loops and session core.
            List<ProtocolAdapter> protocols = new ArrayList<>(List.of(new SwbAdapter(shared)));
            MqttAdapter mqtt = config.mqttPort >= 0 ? new MqttAdapter(shared) : null;
            if (mqtt != null) {
                protocols.add(mqtt);
            }
            if (config.wsPort >= 0) {
                protocols.add(new WebSocketAdapter(shared, mqtt)); // MQTT over WebSocket shares its waiting wills
            }
            this.adapters = List.copyOf(protocols);
            for (SessionShard s : loops) {
                s.eventLoop().scheduleAtFixedRate(() -> tickSafely(s), 1, 1, TimeUnit.SECONDS);
            }
            int recovered = awaitRecovery();
            if (recovered > 0) {
                log.info("recovered the stored messages of {} clients", recovered);
            }
            List<Channel> bound = new ArrayList<>();
            for (ProtocolAdapter adapter : adapters) {
                bound.add(bindListener(adapter, tlsFor(adapter)));
            }
            this.listeners = List.copyOf(bound);
            // The one place that composes the API with the core: it sees only these two services.
            this.api = ApiServer.start(new ApiSettings(config.apiBind, config.apiPort, config.transport,
                    config.apiToken, config.maxPayloadBytes, config.maxTtlSec, config.apiMaxConnections,
                    config.apiHeaderTimeoutSec, config.apiBodyTimeoutSec, config.apiIdleTimeoutSec,
                    config.apiMaxStreams, apiTls(), config.apiMaxBodyMemoryMib * 1024L * 1024),
                    registry.pushes(), new GatewayAdmin(this), metrics, config.apiOnClientLoops ? group : null);
            if (cluster != null) {
                cluster.replaced().thenAccept(reason -> {
                    leftBecause = reason;
                    drain();
                });
            }
        } catch (Exception | Error e) {
            try {
                services.upstream().close(); // its thread and HTTP client: nothing of a failed start stays behind
                leaveStopAndCloseStore(1, 5);
            } catch (RuntimeException | Error cleanup) {
                e.addSuppressed(cleanup); // the start's own failure is the one to report
            }
            throw e;
        }
    }

    /**
     * The store {@code --store} names: the disk store in {@code --data-dir} (locked; bounded by
     * {@code --max-store-bytes}, by default a quarter of the free space there) or memory only.
     */
    private static MessageStore openStore(ServerConfig config, GatewayServices services) {
        if (config.store.equals("memory")) {
            return new MemoryStore();
        }
        long max = config.maxStoreBytes;
        if (max == 0) {
            max = DiskStore.defaultMaxBytes(config.dataDir);
        }
        DiskStore store = DiskStore.open(new DiskStore.Settings(config.dataDir, config.storeFsync,
                config.storeFsyncIntervalMs, config.storeSegmentBytes, max), services.clock());
        log.info("store: disk in {} (fsync {}, up to {} bytes of stored messages)", store.directory(),
                config.storeFsync.word(), max);
        return store;
    }

    /** The API's TLS context, offering h2 and HTTP/1.1 by ALPN ({@code --api-tls-cert}), or null. */
    private SslContext apiTls() {
        if (config.apiTlsCert == null) {
            return null;
        }
        return ServerTls.context(config.apiTlsCert, config.apiTlsKey, ServerTls.auto(), "--api-tls-cert "
                + config.apiTlsCert + " with --api-tls-key " + config.apiTlsKey, "h2", "http/1.1");
    }

    /** The TLS context of {@code adapter}'s listener ({@code --mqtt-tls-cert}, {@code --ws-tls-cert}), or null. */
    private SslContext tlsFor(ProtocolAdapter adapter) {
        if (adapter instanceof MqttAdapter && config.mqttTlsCert != null) {
            return ServerTls.context(config.mqttTlsCert, config.mqttTlsKey, ServerTls.auto(),
                    "--mqtt-tls-cert " + config.mqttTlsCert + " with --mqtt-tls-key " + config.mqttTlsKey);
        }
        if (adapter instanceof WebSocketAdapter && config.wsTlsCert != null) {
            return ServerTls.context(config.wsTlsCert, config.wsTlsKey, ServerTls.auto(),
                    "--ws-tls-cert " + config.wsTlsCert + " with --ws-tls-key " + config.wsTlsKey);
        }
        return null;
    }

    /**
     * Binds {@code adapter}'s listener on the gateway's loops, behind TLS when {@code tls} is given; a clash names
     * the protocol and the address.
     */
    private Channel bindListener(ProtocolAdapter adapter, SslContext tls) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(config.transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, config.backlog)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, config.tcpKeepalive)
                // One shared fixed-size read allocator: the adaptive default costs ~100 heap bytes per
                // channel (its own allocator, handle and calculator), for nothing on mostly idle clients.
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, READ_ALLOCATOR)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(config.writeBufferLowBytes, config.writeBufferHighBytes))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        LocalAddressSharing.share(ch);
                        if (config.acceptProxy) {
                            // Removes itself once the header is decoded, passing on the bytes after it.
                            ch.pipeline().addLast(new HAProxyMessageDecoder(MAX_PROXY_TLV_BYTES));
                        }
                        if (tls != null) {
                            // Decrypts before the protocol (and after a PROXY header, which comes in clear text).
                            SslHandler handler = tls.newHandler(ch.alloc());
                            handler.setHandshakeTimeoutMillis(config.handshakeTimeoutSec * 1000L);
                            ch.pipeline().addLast(handler);
                        }
                        adapter.initChannel(ch);
                    }
                });
        config.transport.configureListener(b, config.reusePort, new Transport.Keepalive(config.tcpKeepalive,
                config.tcpKeepIdleSec, config.tcpKeepIntervalSec, config.tcpKeepCount), config.tcpUserTimeoutMs);
        try {
            return b.bind(adapter.bind(), adapter.port()).sync().channel();
        } catch (Exception e) { // the caller shuts the loops down, closing what was bound already
            throw new IllegalStateException("cannot listen for " + adapter.name() + " clients on " + adapter.bind()
                    + ":" + adapter.port() + ": " + e.getMessage(), e);
        }
    }

    private int awaitRecovery() throws InterruptedException {
        try {
            return registry.recover().get(5, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("could not recover stored messages: " + e, e);
        }
    }

    /** Binds the client listener and the API, and starts the loops. */
    public static GatewayServer start(ServerConfig config, GatewayServices services) throws InterruptedException {
        return new GatewayServer(config, services);
    }

    private void tickSafely(SessionShard s) {
        LoopTasks.survive(s::tick, metrics.loopErrors, log, "timer tick", s.index());
    }

    // ---- accessors

    public ServerConfig config() {
        return config;
    }

    public GatewayServices services() {
        return services;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    public MessageStore store() {
        return store;
    }

    public SessionRegistry registry() {
        return registry;
    }

    public ConnectionGuard guard() {
        return guard;
    }

    public List<SessionShard> loops() {
        return loops;
    }

    public long startedAtMs() {
        return startedAtMs;
    }

    /** The port clients connect to (the bound one when configured as 0). */
    public int port() {
        return ((InetSocketAddress) listeners.get(0).localAddress()).getPort();
    }

    /** The MQTT listener's bound port, or -1 without {@code --mqtt-port}. */
    public int mqttPort() {
        return listenerPort(MqttAdapter.class);
    }

    /** The WebSocket listener's bound port, or -1 without {@code --ws-port}. */
    public int wsPort() {
        return listenerPort(WebSocketAdapter.class);
    }

    private int listenerPort(Class<? extends ProtocolAdapter> protocol) {
        for (int i = 0; i < adapters.size(); i++) {
            if (protocol.isInstance(adapters.get(i))) {
                return ((InetSocketAddress) listeners.get(i).localAddress()).getPort();
            }
        }
        return -1;
    }

    public int apiPort() {
        return api.port();
    }

    public boolean draining() {
        return draining;
    }

    /**
     * Why the server drained by itself, without being asked (another process took over its cluster node, see
     * {@link ClusterProvider.Cluster#replaced()}), or null: the command then exits 1.
     */
    public String leftBecause() {
        return leftBecause;
    }

    /** Completes when a drain has finished (all clients sent away) and the server stopped. */
    public CompletableFuture<Void> drained() {
        return drained;
    }

    /** Runs one timer tick on every loop now and waits for it: tests drive deadlines with a manual clock. */
    public void tickNow() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(loops.size());
        for (SessionShard s : loops) {
            s.execute(() -> {
                tickSafely(s);
                done.countDown();
            });
        }
        if (!done.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("event loops did not run the tick within 10 s");
        }
    }

    // ---- drain and close

    /**
     * Stops accepting, then sends every client {@code BYE 503 draining retry=<ms>} with retries spread over
     * {@code --reconnect-spread}, closing them in slices over {@code --drain-period}; then stops the server.
     * Idempotent; returns {@link #drained()}.
     */
    public CompletableFuture<Void> drain() {
        synchronized (this) {
            if (draining) {
                return drained;
            }
            draining = true;
        }
        registry.startDraining();
        log.info("draining: no new connections; sending {} clients away over {} s", guard.open(),
                config.drainPeriodSec);
        listeners.forEach(Channel::close);
        int slices = Math.max(1, config.drainPeriodSec);
        CountDownLatch loopsDone = new CountDownLatch(loops.size());
        for (SessionShard s : loops) {
            s.execute(() -> drainLoop(s, slices, loopsDone));
        }
        DrainWaiter.start("swb-drain", () -> {
            loopsDone.await(config.drainPeriodSec + 30L, TimeUnit.SECONDS);
            // the sockets sent away are still closing
            DrainWaiter.pollUntil(() -> guard.open() == 0, TimeUnit.SECONDS.toNanos(5), 20);
        }, this::close, drained);
        return drained;
    }

    private void drainLoop(SessionShard s, int slices, CountDownLatch loopsDone) {
        List<ShardMember> members = s.membersSnapshot();
        int perSlice = (members.size() + slices - 1) / slices;
        if (members.isEmpty()) {
            loopsDone.countDown();
            return;
        }
        int spread = config.reconnectSpreadMs;
        for (int slice = 0; slice < slices; slice++) {
            int from = slice * perSlice;
            int to = Math.min(members.size(), from + perSlice);
            if (from >= to) {
                break;
            }
            boolean last = to == members.size();
            Runnable closeSlice = () -> {
                try {
                    for (ShardMember m : members.subList(from, to)) {
                        long retryMs = 1000 + (spread > 0 ? ThreadLocalRandom.current().nextInt(spread) : 0);
                        // One that fails must not keep the others of its loop from being sent away with a retry.
                        io.switchboard.loop.LoopTasks.survive(() -> m.drain(retryMs), metrics.loopErrors, log,
                                "draining a connection", s.index());
                    }
                } finally {
                    if (last) {
                        loopsDone.countDown();
                    }
                }
            };
            if (slice == 0) {
                closeSlice.run();
            } else {
                s.eventLoop().schedule(closeSlice, slice, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Stops at once: closes the listeners, the API and every connection. Once: a later call (a second signal while a
     * drain closes) waits, up to 20 s, for the first to finish (its store closed) and returns.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            // A second signal while a drain closes: the store is still to be closed (its last acknowledgements
            // written) before the process halts; up to 20 s.
            try {
                closed.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            closeOnce();
        } finally {
            closed.countDown();
        }
    }

    private void closeOnce() {
        registry.startDraining(); // no new sessions: a hello arriving now is sent away
        listeners.forEach(Channel::close);
        api.close();
        services.upstream().close();
        if (cluster != null) {
            closeClientConnections(); // first, so that their releases are written before the cluster is left
        }
        leaveStopAndCloseStore(2, 10);
    }

    /**
     * Leaves the cluster (before the loops: its connections may be on them), stops the loops (within
     * {@code timeoutSec}, waiting up to {@code awaitSec}) even if leaving failed, then closes the embedded store
     * (after the loops: the acknowledgements they recorded last are written too).
     */
    private void leaveStopAndCloseStore(int timeoutSec, int awaitSec) {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            group.shutdownGracefully(0, timeoutSec, TimeUnit.SECONDS).awaitUninterruptibly(awaitSec, TimeUnit.SECONDS);
        }
        if (cluster == null) {
            store.close();
        }
    }

    /**
     * Closes every client connection on its loop and waits (up to 10 s) until each loop has also run what their
     * closing queued behind (the session ends, which record releases and acknowledgements).
     */
    private void closeClientConnections() {
        CountDownLatch closed = new CountDownLatch(loops.size());
        for (SessionShard s : loops) {
            s.execute(() -> {
                s.membersSnapshot().forEach(ShardMember::closeNow);
                s.execute(closed::countDown); // queued behind the closed channels' inactive events
            });
        }
        try {
            if (!closed.await(10, TimeUnit.SECONDS)) {
                log.warn("client connections still closing after 10 s; leaving the cluster anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** This node's membership of a cluster, or null in one process. */
    public ClusterProvider.Cluster cluster() {
        return cluster;
    }
}
