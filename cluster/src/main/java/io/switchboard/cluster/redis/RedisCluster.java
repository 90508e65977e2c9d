package io.switchboard.cluster.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.DefaultEventLoopGroupProvider;
import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.clock.Clock;
import io.switchboard.session.ClientDirectory;
import io.switchboard.cluster.ClusterProvider;
import io.switchboard.config.ServerConfig;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.session.SessionRegistry;
import io.switchboard.store.MessageStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gateway's membership of a cluster on Redis: the connections (one for commands and scripts, one for the
 * blocking reads of this node's inbox), the node's lease, the view of which nodes are alive, and the store and
 * directory built on them. Lettuce's I/O runs on the gateway's loops (epoll; else a thread of its own, see
 * {@link GatewayLoops}); its request queue is bounded and commands are rejected
 * at once while disconnected, every command has {@code --cluster-timeout}, so a Redis outage is a quick 503, never a
 * hang or a growing queue.
 *
 * <p>Thread-safe.
 */
public final class RedisCluster implements ClusterProvider.Cluster {
    private static final Logger log = LoggerFactory.getLogger(RedisCluster.class);
    /** A lease lives this long unless refreshed; refreshed every third of it. */
    static final long LEASE_MS = 6_000;
    /** An offline client's record (its epoch and last seq) is kept this long after its last connection. */
    static final long KEEP_OFFLINE_RECORD_MS = TimeUnit.DAYS.toMillis(7);
    /** Commands waiting to be written while Redis is slow: beyond it, commands fail at once. */
    private static final int REQUEST_QUEUE = 65_536;

    final String node;
    final Clock clock;
    final GatewayMetrics metrics;
    final int timeoutMs;
    final boolean seqOriginFromClock;
    final int maxStoredPerClient;
    /** Bytes of stored messages an offline client may have in Redis (--max-queued-bytes, as a queue in one process). */
    final long maxStoredBytesPerClient;
    /** This process among those that ever ran as {@link #node}: its lease holds it. */
    final String instance = UUID.randomUUID().toString();
    private final ClientResources resources;
    private final EventLoopGroupProvider ioThreads;
    private final io.netty.util.concurrent.EventExecutorGroup timerThread;
    /**
     * Issues this node's topic subscriber entries in the order their counts changed (RedisDirectory#sendInterest):
     * a thread of its own, not the timer's, so that a storm of them (a million per-client topics after a restart)
     * never holds back the lease refresh. Idle, it sleeps.
     */
    final io.netty.util.concurrent.EventExecutor interestThread =
            new io.netty.util.concurrent.DefaultEventExecutor(new DefaultThreadFactory("swb-cluster-interest", true));
    /** Lettuce's command timeouts and reconnect delays (given to it, so stopped here). */
    private final HashedWheelTimer timeoutWheel;
    private final RedisClient client;
    private final StatefulRedisConnection<byte[], byte[]> commands;
    private final StatefulRedisConnection<byte[], byte[]> reader;
    private final NodeInbox inbox;
    /** The direct links to other nodes (from {@link #start} on; null with {@code --cluster-link off}). */
    private volatile NodeLinks links;
    private final ServerConfig config;
    private final EventLoopGroup loops;
    /** Where Redis is: links listen by default on the address this host reaches it from. */
    private final String redisHost;
    private final int redisPort;
    /** The cluster's link secret as this node proposes it (kept if Redis holds none). */
    private final byte[] linkSecret = java.util.HexFormat.of().formatHex(NodeLinks.randomBytes(32))
            .getBytes(StandardCharsets.US_ASCII);
    /** The link secret Redis holds, as last read. */
    private volatile byte[] linkSecretSeen;
    private final RedisStore store;
    private final RedisDirectory directory;
    final Script claim = Script.load("claim", ScriptOutputType.MULTI);
    final Script release = Script.load("release", ScriptOutputType.INTEGER);
    final Script unclaim = Script.load("unclaim", ScriptOutputType.MULTI);
    final Script push = Script.load("push", ScriptOutputType.MULTI);
    final Script append = Script.load("append", ScriptOutputType.INTEGER);
    final Script ack = Script.load("ack", ScriptOutputType.INTEGER);
    final Script sweep = Script.load("sweep", ScriptOutputType.INTEGER);
    final Script qos2 = Script.load("qos2", ScriptOutputType.INTEGER);
    final Script reclaim = Script.load("reclaim", ScriptOutputType.MULTI);
    final Script retainedExpired = Script.load("retained-expired", ScriptOutputType.INTEGER);
    private final Script lease = Script.load("lease", ScriptOutputType.VALUE);
    /** When the lease was last taken or refreshed (System.nanoTime, as the answer came). */
    private volatile long lastLeaseRefreshNs;
    /** Completes when another process took this node's lease (see {@link #replaced()}). */
    private final CompletableFuture<String> replaced = new CompletableFuture<>();
    /** The forgotten nodes whose clients this process is releasing now ({@link ForgottenNodeSweep}). */
    final Set<String> sweeping = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * Every how many lease refreshes (two seconds each) the sweeps under way are read, to carry on those whose node
     * died ({@link ForgottenNodeSweep#carryOnOrphans}). Settable for tests.
     */
    static volatile int sweepCheckEveryTicks = 15;
    private int ticks;
    private volatile Set<String> alive = Set.of();
    /**
     * How long a name in the node list may go without a lease before the cluster forgets it: its entry in the list,
     * its published client count and its inbox are removed, and the clients it still held are released
     * ({@link ForgottenNodeSweep}). Node names given by an orchestrator change with every restart, and each left
     * these behind for good (and every lease refresh read them all). Settable for tests.
     */
    static volatile long forgetAfterMs = TimeUnit.MINUTES.toMillis(10);
    /** Names in the node list seen without a lease, and since when (this process's clock, ns). */
    private final Map<String, Long> leaselessSinceNs = new java.util.concurrent.ConcurrentHashMap<>();
    /** Online clients per node as each last published them (every two seconds). */
    private volatile Map<String, Long> onlineByNode = Map.of();
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private final AtomicBoolean down = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Redis commands that failed (timeout, disconnected, error), by what they were for. */
    final LongAdder failures = new LongAdder();

    private RedisCluster(ServerConfig config, GatewayMetrics metrics, Clock clock, EventLoopGroup loops) {
        this.node = config.nodeName;
        this.clock = clock;
        this.metrics = metrics;
        this.timeoutMs = config.clusterTimeoutMs;
        this.seqOriginFromClock = config.seqOriginFromClock;
        this.maxStoredPerClient = config.maxQueuedMessagesPerClient;
        this.maxStoredBytesPerClient = config.maxQueuedBytesPerClient;
        this.config = config;
        this.loops = loops;
        RedisURI uri = RedisURI.create(config.cluster);
        this.redisHost = uri.getHost();
        this.redisPort = uri.getPort();
        uri.setTimeout(Duration.ofMillis(timeoutMs));
        if (config.clusterPassword != null) {
            uri = RedisURI.builder(uri).withPassword(config.clusterPassword.toCharArray()).build();
        }
        if (System.getProperty("io.lettuce.core.iouring") == null) {
            System.setProperty("io.lettuce.core.iouring", "false"); // epoll, as the gateway; and no warning per use
        }
        // Lettuce's I/O on the gateway's loops where its channels can register there (epoll, which Lettuce picks
        // first), else one thread of its own; and one timer thread (Lettuce's own pools have at least two each):
        // given as shared groups, so they are shut down here, after the client.
        this.ioThreads = config.transport == io.switchboard.transport.Transport.EPOLL
                && io.lettuce.core.resource.Transports.socketChannelClass()
                        == io.netty.channel.epoll.EpollSocketChannel.class
                ? new GatewayLoops(loops) : new DefaultEventLoopGroupProvider(1);
        this.timerThread = new io.netty.util.concurrent.DefaultEventExecutorGroup(1,
                new DefaultThreadFactory("swb-cluster-timer", true));
        this.timeoutWheel = new HashedWheelTimer(
                new DefaultThreadFactory("swb-cluster-timeouts", true),
                timeoutTickMs(timeoutMs), TimeUnit.MILLISECONDS);
        // Reconnects at most 2 s apart, with jitter: Lettuce's default grows to 30 s, so after an outage longer than
        // that a node could wait up to 30 s more (past its 6 s lease) with Redis back, and every node at once.
        this.resources = DefaultClientResources.builder().eventLoopGroupProvider(ioThreads)
                .eventExecutorGroup(timerThread).timer(timeoutWheel)
                .reconnectDelay(io.lettuce.core.resource.Delay.equalJitter(java.time.Duration.ofMillis(100),
                        java.time.Duration.ofSeconds(2), 100, TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources, uri);
        ClientOptions.Builder options = ClientOptions.builder();
        if (config.clusterTlsCa != null) {
            options.sslOptions(io.lettuce.core.SslOptions.builder().jdkSslProvider()
                    .trustManager(new java.io.File(config.clusterTlsCa)).build());
        }
        // A Redis host that goes away while the TCP connection stays up (packets dropped, a machine gone) is cut off:
        // data unacknowledged for 10 s (TCP_USER_TIMEOUT, epoll) or an idle connection whose keepalive probes go
        // unanswered for ~11 s closes the connection, which fails the commands Lettuce still holds (timed out, but
        // kept until an answer that may never come: their payloads too) and reconnects. Without, the kernel gave up
        // after ~15 minutes of retransmissions. (A Redis process that is stopped but whose kernel still acknowledges
        // is not caught by either: its commands time out, and Lettuce keeps them, up to its request queue.)
        options.socketOptions(io.lettuce.core.SocketOptions.builder()
                .keepAlive(io.lettuce.core.SocketOptions.KeepAliveOptions.builder().enable()
                        .idle(java.time.Duration.ofSeconds(5)).interval(java.time.Duration.ofSeconds(2)).count(3)
                        .build())
                .tcpUserTimeout(io.lettuce.core.SocketOptions.TcpUserTimeoutOptions.builder().enable()
                        .tcpUserTimeout(java.time.Duration.ofMillis(Math.max(10_000, 5L * timeoutMs))).build())
                .build());
        client.setOptions(options
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(REQUEST_QUEUE)
                .timeoutOptions(TimeoutOptions.enabled())
                .autoReconnect(true)
                .build());
        try {
            this.commands = connect(client);
            this.reader = connect(client);
            reader.setTimeout(Duration.ofMillis(NodeInbox.BLOCK_MS + timeoutMs));
            this.inbox = new NodeInbox(this, reader);
            joinAsNode();
        } catch (RuntimeException e) {
            shutdownClient();
            throw new IllegalStateException("--cluster " + redact(config.cluster) + ": " + reason(e)
                    + unreachableHint(e), e);
        }
        this.directory = new RedisDirectory(this, inbox);
        this.store = new RedisStore(this, directory);
    }

    /**
     * One connection. Lettuce 7.7 now and then reports a handshake Redis refused (a wrong password) as the channel
     * closing under it ("RedisHandshakeHandler not registered", "Connection closed prematurely"; 2 in 750 starts
     * against a wrong password here), which tells the operator nothing: such a failure is tried once more, and the
     * second answer names the cause. Other failures (refused, timed out) are not retried: they would only double
     * the wait for the same answer.
     */
    private static StatefulRedisConnection<byte[], byte[]> connect(RedisClient client) {
        try {
            return client.connect(ByteArrayCodec.INSTANCE);
        } catch (RuntimeException first) {
            String why = reason(first);
            if (!why.contains("not registered") && !why.contains("closed prematurely")) {
                throw first;
            }
            try {
                return client.connect(ByteArrayCodec.INSTANCE);
            } catch (RuntimeException second) {
                second.addSuppressed(first);
                throw second;
            }
        }
    }

    /**
     * Whether {@code e} says a command was refused before it was sent (Lettuce rejects commands while disconnected,
     * and beyond its request queue):
     * Redis never runs it. Else (a timeout, the connection lost under it) it may have run, or run yet.
     */
    static boolean neverSent(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c.getMessage() != null && (c.getMessage().startsWith("Currently not connected")
                    || c.getMessage().startsWith("Request queue size exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Ends the one line of a start that failed for want of Redis (unreachable, or gone or silent while the node
     * joined): the operator, or a supervisor, starts the node again once Redis answers.
     */
    public static final String NOT_STARTED_WITHOUT_REDIS =
            " (a node starts only once Redis answers there: start it again then)";

    /**
     * {@link #NOT_STARTED_WITHOUT_REDIS} when {@code e} says Redis could not be reached, or went away or silent (a
     * start again then can succeed); else nothing: a wrong password, a refused TLS certificate, a node name held
     * by a live process need the operator, not a restart.
     */
    static String unreachableHint(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            boolean loading = c.getMessage() != null && c.getMessage().startsWith("LOADING");
            if (c instanceof io.lettuce.core.RedisCommandExecutionException && !loading
                    || c instanceof javax.net.ssl.SSLException) {
                return ""; // Redis answered (WRONGPASS, NOPERM, ...), or its certificate was refused
            }
        }
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof io.lettuce.core.RedisConnectionException
                    || c instanceof io.lettuce.core.RedisCommandTimeoutException
                    || c instanceof java.util.concurrent.TimeoutException
                    || c instanceof java.net.ConnectException
                    || c.getMessage() != null && (c.getMessage().contains("Currently not connected")
                    || c.getMessage().contains("Connection closed") || c.getMessage().contains("Connection disconnected")
                    || c.getMessage().startsWith("LOADING"))) {
                return NOT_STARTED_WITHOUT_REDIS;
            }
        }
        return "";
    }

    /**
     * Connects as node {@code config.nodeName}, on the gateway's event loops {@code loops} (never blocked by it);
     * throws {@link IllegalStateException} with one line when it cannot. Called off the loops.
     */
    public static RedisCluster open(ServerConfig config, GatewayMetrics metrics, Clock clock, EventLoopGroup loops) {
        return new RedisCluster(config, metrics, clock, loops);
    }

    /**
     * Takes this node's lease; waits up to a lease's life for an older one of the same name (a process of this node
     * killed just now) to lapse, and refuses to start beside a live node of the same name.
     */
    /** The last process of this node's name as it was found at the join, when it did not leave cleanly; else null. */
    private byte[] lastProcessAtJoin;
    /** Redis's clock when this process joined, in µs. */
    private long joinedAtUs;

    private void joinAsNode() {
        RedisAsyncCommands<byte[], byte[]> redis = commands.async();
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEASE_MS + 1_000);
        boolean logged = false;
        while (true) {
            String ok = await(redis.set(Keys.lease(node), Script.bytes(instance), SetArgs.Builder.nx().px(LEASE_MS)));
            if ("OK".equals(ok)) {
                lastLeaseRefreshNs = System.nanoTime();
                break;
            }
            if (System.nanoTime() - deadlineNs > 0) {
                throw new IllegalStateException("node " + node + " is alive in the cluster already (its lease "
                        + new String(Keys.lease(node), StandardCharsets.UTF_8) + " is held): give this process "
                        + "another --node");
            }
            if (!logged) {
                log.info("cluster: waiting up to {} ms for the lease of an earlier process of node {} to lapse",
                        LEASE_MS, node);
                logged = true;
            }
            sleep(250);
        }
        // Left by the last process of this name unless it left cleanly (removeNode deletes it): killed, or taken for
        // dead. Read before this process writes its own, with Redis's clock: the fence of the sweep of what it held.
        lastProcessAtJoin = await(redis.get(Keys.kept(node)));
        List<byte[]> time = await(redis.time());
        joinedAtUs = Long.parseLong(new String(time.get(0), StandardCharsets.US_ASCII)) * 1_000_000
                + Long.parseLong(new String(time.get(1), StandardCharsets.US_ASCII));
        // From now on, this key found missing means Redis lost what this node wrote (RedisDirectory#restoreIfLost).
        await(redis.set(Keys.kept(node), Script.bytes(instance)));
        try { // and another process answering, that it may have lost some (unknown where INFO is not allowed)
            redisRunId = runId(redis.info("server").get(timeoutMs, TimeUnit.MILLISECONDS));
            String eviction = evictionProblem(redis.info("memory").get(timeoutMs, TimeUnit.MILLISECONDS));
            if (eviction != null) {
                log.warn("cluster: {}", eviction);
            }
        } catch (Exception e) {
            log.warn("cluster: Redis does not answer INFO ({}): a restart or failover of Redis that loses the last "
                    + "claims written is not noticed, nor an eviction policy that drops stored messages (allow INFO "
                    + "to this user)", reason(e));
        }
        if (config.clusterLinks) {
            linkSecretSeen = await(refreshLinkSecret());
        }
        try {
            refreshAlive().get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(reason(e), e);
        }
    }

    @Override
    public void start(SessionRegistry registry) {
        directory.start(registry);
        try {
            int retained = directory.loadRetained(registry.retained(), registry.nowMs());
            if (retained > 0) {
                log.info("cluster: loaded {} retained messages", retained);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not load the cluster's retained messages: " + reason(e)
                    + unreachableHint(e), e);
        }
        inbox.start(registry);
        if (config.clusterLinks) {
            String advertise = config.clusterLinkHost == null || isWildcard(config.clusterLinkHost)
                    ? NodeLinks.localAddressTowards(redisHost, redisPort) : config.clusterLinkHost;
            String bind = config.clusterLinkHost == null ? advertise : config.clusterLinkHost;
            // Pushes between nodes as private as through Redis: TLS on the links when Redis is reached over TLS.
            LinkTls tls = config.cluster.startsWith("rediss://") ? LinkTls.generate(node) : null;
            NodeLinks l = new NodeLinks(this, inbox, config.transport, loops, bind, config.clusterLinkPort,
                    advertise.contains(":") ? "[" + advertise + "]" : advertise, tls);
            l.secret(linkSecretSeen);
            links = l;
            inbox.links(l);
            try {
                commands.async().hset(Keys.LINKS, Script.bytes(node), Script.bytes(l.address))
                        .get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("could not announce this node's link address: " + reason(e)
                        + unreachableHint(e), e);
            }
            log.info("cluster: node {} takes the other nodes' requests on a direct link at {}", node, tls == null
                    ? l.address + " (plain TCP)" : l.address.replace(LinkTls.ANNOUNCED, " (TLS, certificate SHA-256 ")
                    + ")");
        }
        EventExecutor timer = resources.eventExecutorGroup().next();
        timers.add(timer.scheduleAtFixedRate(this::tick, LEASE_MS / 3, LEASE_MS / 3, TimeUnit.MILLISECONDS));
        log.info("cluster: node {} joined ({} nodes alive)", node, alive.size());
        if (lastProcessAtJoin != null) {
            ForgottenNodeSweep.startOwn(this, new String(lastProcessAtJoin, StandardCharsets.UTF_8), joinedAtUs);
        }
    }

    /** The {@code run_id} of the Redis process that last answered INFO (null before the first answer). */
    private volatile String redisRunId;

    /**
     * Notes which Redis process answers ({@code INFO server}'s {@code run_id}): a restart, or a failover to a replica,
     * changes it. Such a Redis may have lost the last writes (everysec AOF, asynchronous replication), among them a
     * claim of a client connected here, while this node's lease and kept keys, written long before, survived: no
     * lapse and no loss to see, and the other nodes would take that client for offline (pushes kept, or 404) for as
     * long as it stays connected. So the claims of the clients connected here are checked then.
     */
    private void checkRedisProcess() {
        commands.async().info("server").whenComplete((info, e) -> {
            if (e != null || info == null) {
                return; // counted by the lease refresh beside it
            }
            String id = runId(info);
            String before = redisRunId;
            redisRunId = id;
            if (before != null && id != null && !before.equals(id)) {
                directory.redisProcessChanged();
            }
        });
    }

    /** The {@code run_id} in an {@code INFO server} answer, or null. */
    static String runId(String info) {
        return infoField(info, "run_id");
    }

    /** A field of an {@code INFO} answer, or null. */
    private static String infoField(String info, String name) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).strip();
            }
        }
        return null;
    }

    /**
     * What is wrong with Redis's eviction for the cluster, from {@code INFO memory}: null when nothing is. With a
     * {@code maxmemory} and a policy other than {@code noeviction}, Redis drops keys when full (stored messages and
     * leases all have a ttl, so even the volatile-* policies take them) where the cluster needs a refused write: a
     * 503 to the push, not a message answered 200 and then gone.
     */
    static String evictionProblem(String infoMemory) {
        String maxmemory = infoField(infoMemory, "maxmemory");
        String policy = infoField(infoMemory, "maxmemory_policy");
        if (maxmemory == null || policy == null || "0".equals(maxmemory) || "noeviction".equals(policy)) {
            return null;
        }
        return "Redis evicts keys when full (maxmemory " + maxmemory + ", maxmemory-policy " + policy + "): stored "
                + "messages answered 200 and leases of live nodes can be dropped; set maxmemory-policy noeviction "
                + "(pushes then get 503 when Redis is full)";
    }

    /** Refreshes the lease and the view of live nodes. On Lettuce's computation thread. */
    private void tick() {
        if (replaced.isDone()) {
            return; // no longer this node: writes nothing more (the server drains and exits)
        }
        checkRedisProcess();
        lease.<byte[]>run(commands.async(), new byte[][] {Keys.lease(node)}, Script.bytes(instance),
                Script.bytes(LEASE_MS)).whenComplete((holder, e) -> {
                    if (e != null) {
                        redisFailed("lease refresh", e);
                    } else {
                        redisBack();
                        String said = new String(holder, StandardCharsets.UTF_8);
                        // Lapsed as Redis says, or as this process saw it: the refresh that took the lease back may
                        // have been answered after its timeout (a network cut healing), and its "lapsed" lost.
                        long nowNs = System.nanoTime();
                        boolean longSinceLastRefresh =
                                nowNs - lastLeaseRefreshNs > TimeUnit.MILLISECONDS.toNanos(LEASE_MS);
                        lastLeaseRefreshNs = nowNs;
                        if (said.isEmpty() || said.equals("lapsed")) {
                            directory.restoreIfLost(!said.isEmpty() || longSinceLastRefresh);
                        } else {
                            replacedBy(said);
                        }
                    }
                    if (!replaced.isDone()) {
                        // After the lease's answer: a process that was paused past its lease and replaced wrote, in
                        // the tick that found it out, the node's link address (peers linked to it for seconds),
                        // its client count, and the inbox's persistence, as if it were still the node. On the
                        // timer's thread, as before: not on the Redis connection's own I/O thread, where a burst
                        // of commands is written without a reply read in between.
                        try {
                            timer().execute(this::afterLease);
                        } catch (java.util.concurrent.RejectedExecutionException closing) {
                            // The node is closing: nothing more to refresh.
                        }
                    }
                });
    }

    /** The rest of a refresh, once the lease's answer did not say another process holds it. */
    private void afterLease() {
        refreshAlive();
        directory.undoClaimsLeft();
        directory.retryReleases();
        directory.resendTopicInterest();
        NodeLinks l = links;
        if (l != null) {
            // Again each time, as the node list: a Redis that restarted empty learns them back.
            commands.async().hset(Keys.LINKS, Script.bytes(node), Script.bytes(l.address));
            refreshLinkSecret();
        }
        if (++ticks % Math.max(1, sweepCheckEveryTicks) == 0) {
            ForgottenNodeSweep.carryOnOrphans(this);
        }
    }

    /**
     * Another process holds this node's lease: this one was taken for dead (paused, or cut off from Redis, for longer
     * than the lease) and a new process of the same name took the node over, its clients and its inbox. Two processes
     * as one node would each write as the node (the claims, the inbox, the lease back and forth): this one stops.
     */
    private void replacedBy(String holder) {
        if (replaced.complete("another process (" + holder + ") holds node " + node + "'s lease: this process was "
                + "taken for dead (paused, or cut off from Redis, for longer than the " + LEASE_MS / 1000 + " s lease) "
                + "and replaced; it leaves the cluster")) {
            log.error("cluster: {}", replaced.join());
            // The inbox is the new process's now: read on here, its requests were answered "not here" for clients
            // the new one holds (a push then kept beside a delivered one), and its entries trimmed unread.
            inbox.stopReading();
        }
    }

    /** Sets the cluster's link secret unless Redis holds one, and reads the one it holds. */
    private io.lettuce.core.RedisFuture<byte[]> refreshLinkSecret() {
        RedisAsyncCommands<byte[], byte[]> redis = commands.async();
        redis.set(Keys.LINK_SECRET, linkSecret, SetArgs.Builder.nx());
        io.lettuce.core.RedisFuture<byte[]> read = redis.get(Keys.LINK_SECRET);
        read.thenAccept(secret -> {
            if (secret != null) {
                linkSecretSeen = secret;
                NodeLinks l = links;
                if (l != null) {
                    l.secret(secret);
                }
            }
        });
        return read;
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }

    @Override
    public CompletableFuture<String> replaced() {
        return replaced;
    }

    /** Learns which nodes hold their lease, and publishes this node's count of online clients beside it. */
    CompletableFuture<Set<String>> refreshAlive() {
        RedisAsyncCommands<byte[], byte[]> redis = commands.async();
        redis.sadd(Keys.NODES, Script.bytes(node)); // again each time: a Redis that restarted empty learns it back
        redis.persist(Keys.inbox(node)); // a notice sent while this node was not seen alive gave it an expiry
        redis.hset(Keys.ONLINE, Script.bytes(node), Script.bytes(metrics.sessionsOnline.get()));
        redis.hgetall(Keys.ONLINE).whenComplete((counts, e) -> {
            if (e == null) {
                Map<String, Long> byNode = new java.util.TreeMap<>();
                counts.forEach((k, v) -> byNode.put(new String(k, StandardCharsets.UTF_8), StoredEntries.number(v)));
                onlineByNode = byNode;
            }
        });
        return redis.smembers(Keys.NODES).thenCompose(members -> {
            List<String> names = new ArrayList<>(members.size());
            for (byte[] m : members) {
                names.add(new String(m, StandardCharsets.UTF_8));
            }
            if (names.isEmpty()) {
                return CompletableFuture.completedFuture(Set.of(node));
            }
            return leaseHolders(names).thenApply(holders -> {
                NodeLinks l = links;
                if (l != null) {
                    l.keepOnly(holders);
                }
                Set<String> now = new java.util.HashSet<>(holders.keySet());
                List<String> leaseless = new ArrayList<>();
                for (String name : names) {
                    if (!holders.containsKey(name) && !name.equals(node)) {
                        leaseless.add(name);
                    }
                }
                now.add(node);
                forgetLongGone(leaseless);
                return Set.copyOf(now);
            });
        }).whenComplete((now, e) -> {
            if (e == null) {
                alive = now;
            }
        }).toCompletableFuture();
    }

    /**
     * The process that holds each of {@code names}' lease now (a name without a lease is left out): every lease in
     * one command (they share a hash tag), answered in the order asked.
     */
    CompletableFuture<Map<String, String>> leaseHolders(List<String> names) {
        return commands.async().mget(names.stream().map(Keys::lease).toArray(byte[][]::new)).thenApply(leases -> {
            Map<String, String> holders = new java.util.HashMap<>();
            for (int i = 0; i < names.size(); i++) {
                if (leases.get(i).hasValue()) {
                    holders.put(names.get(i), new String(leases.get(i).getValue(), StandardCharsets.UTF_8));
                }
            }
            return holders;
        }).toCompletableFuture();
    }

    /** Forgets the nodes that have been without a lease for {@link #forgetAfterMs} (see there). */
    private void forgetLongGone(List<String> leaseless) {
        leaselessSinceNs.keySet().retainAll(leaseless);
        long nowNs = System.nanoTime();
        for (String name : leaseless) {
            long sinceNs = leaselessSinceNs.computeIfAbsent(name, k -> nowNs);
            if (nowNs - sinceNs >= TimeUnit.MILLISECONDS.toNanos(forgetAfterMs)) {
                leaselessSinceNs.remove(name);
                // Looked at once more first: a process of that name that started a moment ago keeps its inbox.
                commands.async().exists(Keys.lease(name)).thenAccept(n -> {
                    if (n == 0) {
                        // Its last process, as it wrote it joining (read before removeNode deletes it): the sweep
                        // removes that process's topic subscriber entries.
                        CompletableFuture<byte[]> lastProcess = commands.async().get(Keys.kept(name))
                                .toCompletableFuture().exceptionally(e -> null); // unknown: its entries stay
                        // The node that takes it off the list first also releases the clients it still holds.
                        commands.async().srem(Keys.NODES, Script.bytes(name)).thenAcceptBoth(lastProcess,
                                (removed, process) -> {
                                    if (removed > 0) {
                                        ForgottenNodeSweep.start(this, name,
                                                process == null ? "" : new String(process, StandardCharsets.UTF_8));
                                    }
                                });
                        removeNode(name);
                        log.info("cluster: forgot node {}: without a lease for {} s (its inbox and its place in "
                                + "the node list removed)", name, TimeUnit.MILLISECONDS.toSeconds(forgetAfterMs));
                    }
                });
            }
        }
    }

    /** Removes {@code name} from the node list and the published counts, and deletes its inbox; the last reply. */
    private CompletableFuture<Long> removeNode(String name) {
        RedisAsyncCommands<byte[], byte[]> redis = commands.async();
        redis.srem(Keys.NODES, Script.bytes(name));
        redis.hdel(Keys.ONLINE, Script.bytes(name));
        redis.hdel(Keys.LINKS, Script.bytes(name));
        redis.del(Keys.kept(name));
        return redis.del(Keys.inbox(name)).toCompletableFuture();
    }

    /**
     * Whether {@code other} holds its lease: from the view refreshed every two seconds when it says so, else asked
     * of Redis (a node that joined since is not missed); this node always is. Completes exceptionally when Redis
     * does not answer.
     */
    CompletableFuture<Boolean> alive(String other) {
        if (other.equals(node) || alive.contains(other)) {
            return CompletableFuture.completedFuture(true);
        }
        return commands.async().exists(Keys.lease(other)).toCompletableFuture().thenApply(n -> n > 0);
    }

    /** The nodes that held their lease at the last look (every two seconds), this one included. */
    Set<String> aliveNodes() {
        return alive;
    }

    RedisAsyncCommands<byte[], byte[]> redis() {
        return commands.async();
    }

    /** A Redis command failed: counted; logged once per outage (until one succeeds again). */
    void redisFailed(String what, Throwable e) {
        failures.increment();
        if (down.compareAndSet(false, true)) {
            log.warn("cluster: Redis failed ({}): {}; pushes that need it are answered 503, new handshakes are "
                    + "refused with 503 until it answers again", what, reason(e));
        }
    }

    /** A Redis command succeeded: ends an outage logged by {@link #redisFailed}. */
    void redisBack() {
        if (down.compareAndSet(true, false)) {
            log.info("cluster: Redis answers again");
        }
    }

    boolean redisDown() {
        return down.get();
    }

    /** Whether this node left the cluster (or is leaving it). */
    boolean closed() {
        return closed.get();
    }

    EventExecutor timer() {
        return resources.eventExecutorGroup().next();
    }

    @Override
    public MessageStore store() {
        return store;
    }

    @Override
    public ClientDirectory directory() {
        return directory;
    }

    @Override
    public Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", node);
        m.put("nodes_alive", alive.size());
        m.put("nodes", alive.stream().sorted().toList());
        Map<String, Long> clients = new LinkedHashMap<>();
        long total = 0;
        for (var e : onlineByNode.entrySet()) {
            if (alive.contains(e.getKey())) {
                clients.put(e.getKey(), e.getValue());
                total += Math.max(0, e.getValue());
            }
        }
        m.put("clients_online", total);
        m.put("clients_per_node", clients);
        m.put("redis_up", !down.get());
        m.put("redis_failures", failures.sum());
        m.put("routed_pushes", directory.routed.sum());
        m.put("routed_in", inbox.pushesIn.sum());
        m.put("routed_requests", inbox.requestsOut.sum());
        m.put("owner_silent", directory.silent.sum());
        NodeLinks l = links;
        m.put("links_up", l == null ? 0 : l.up());
        m.put("requests_over_links", l == null ? 0 : l.requestsOverLinks.sum());
        m.put("link_failures", l == null ? 0 : l.linkFailures.sum());
        m.put("inbox_failures", inbox.handlerFailures.sum());
        m.put("ended_subscriber_entries_removed", directory.endedSubscribers.sum());
        m.put("claims_put_back", directory.reclaimed.sum());
        m.put("late_claims_undone", directory.claimsUndone.sum());
        return m;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        timers.forEach(t -> t.cancel(false));
        NodeLinks l = links;
        if (l != null) {
            l.close();
        }
        inbox.stop();
        try {
            // The releases the closing connections issued are queued before this: it answers after them. A node
            // that leaves for good leaves nothing behind (its inbox is read no more); a process that was replaced
            // leaves the node to the process that holds its lease.
            byte[] holder = lease.<byte[]>run(commands.async(), new byte[][] {Keys.lease(node)},
                    Script.bytes(instance), Script.bytes(0)).get(timeoutMs, TimeUnit.MILLISECONDS);
            if (holder.length == 0) {
                removeNode(node).get(timeoutMs, TimeUnit.MILLISECONDS);
            } else {
                replacedBy(new String(holder, StandardCharsets.UTF_8));
            }
        } catch (Exception e) {
            log.warn("cluster: could not remove node {}'s lease on close ({}); it lapses within {} ms", node,
                    reason(e), LEASE_MS);
        }
        // Each step bounded: their answers come on the gateway's loops, and one that is stuck must not hold the
        // node's exit (the loops are stopped after this).
        closeBounded(reader.closeAsync(), "the inbox connection"); // ends the blocking read first
        closeBounded(commands.closeAsync(), "the command connection");
        shutdownClient();
    }

    private void closeBounded(java.util.concurrent.CompletableFuture<?> closing, String what) {
        try {
            closing.get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("cluster: interrupted while closing {}; going on", what);
        } catch (Exception e) {
            log.warn("cluster: closing {} failed or took over 2 s ({}); going on", what, reason(e));
        }
    }

    private void shutdownClient() {
        try {
            closeBounded(client.shutdownAsync(0, 2, TimeUnit.SECONDS), "the Redis client");
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            ioThreads.shutdown(0, 2, TimeUnit.SECONDS);
            timerThread.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            interestThread.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            timeoutWheel.stop();
        }
    }

    /**
     * The tick of Lettuce's timeout wheel: a quarter of {@code --cluster-timeout}, between 10 and 500 ms, so that a
     * stuck command fails within 1.25 times the timeout. The wheel wakes every tick, commands waiting or not; Lettuce's
     * own default of 100 ms was ten wake-ups a second in every process of a cluster, idle or not.
     */
    static long timeoutTickMs(int timeoutMs) {
        return Math.max(10, Math.min(500, timeoutMs / 4));
    }

    private <T> T await(io.lettuce.core.RedisFuture<T> f) {
        try {
            return f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        } catch (Exception e) {
            throw new IllegalStateException(reason(e), e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** One line for a failure: its cause's message, without a stack trace. */
    static String reason(Throwable e) {
        Throwable c = e;
        while ((c instanceof java.util.concurrent.CompletionException
                || c instanceof java.util.concurrent.ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        String m = c.getMessage();
        if (c.getCause() != null && c.getCause().getMessage() != null) {
            // A cause's message may be its own cause's toString ("io.lettuce.core.RedisException: ..."): said once.
            String more = c.getCause().getMessage().replaceFirst("^[\\w.$]+(Exception|Error): ", "");
            if (m == null || !m.contains(more)) {
                m = (m == null ? "" : m + ": ") + more;
            }
        }
        return m == null ? c.getClass().getSimpleName() : m;
    }

    /** The URI without a password in it, for messages. */
    private static String redact(String uri) {
        return uri.replaceAll("//[^@/]*@", "//***@");
    }
}
