package io.switchboard.cluster.redis;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.switchboard.transport.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Direct TCP links between nodes for the requests one node makes of another (a routed push or batch, a topic
 * message's fan-out, a disconnect) and their answers: a request and its answer cross no Redis and wake no Redis
 * thread, where the inbox stream costs two Redis commands each way ({@code XADD}, {@code XREAD}). The stream stays:
 * it carries what has no answer (takeover notices, retained messages) and every request while a link is not up
 * (starting, refused, broken, or a peer that listens on none), so a link that fails slows pushes, it loses none;
 * requests in flight on a link that breaks are answered as unanswered at once (503, as a silent node's).
 *
 * <p>Each node listens on {@code --cluster-link} and writes its address under {@link Keys#LINKS}. A node that
 * routes to another connects to it once (on its first request) and keeps the link; the listener proves the peer
 * knows the cluster's link secret (kept in Redis, {@link Keys#LINK_SECRET}: whoever can write to Redis can push
 * through the inbox anyway) with an HMAC of a fresh nonce before it takes a request. A link is dropped when the
 * peer's lease names another process (the one linked to was taken for dead and replaced). With a Redis reached over
 * TLS the links take TLS too ({@link LinkTls}: a certificate per process, pinned by the hash announced in Redis).
 *
 * <p>Thread-safe; a link's frames are read on a gateway loop and handled as inbox entries are.
 */
final class NodeLinks {
    private static final Logger log = LoggerFactory.getLogger(NodeLinks.class);
    /** The largest request frame: a batch as large as the API takes (64 MiB) with room for its framing. */
    static final int MAX_FRAME = 72 << 20;
    /** The largest frame before the peer proved it knows the secret. */
    private static final int MAX_HANDSHAKE_FRAME = 1024;
    private static final String HELLO = "SWBL1";
    private static final byte[] OK = "OK".getBytes(StandardCharsets.US_ASCII);
    /** After a link failed or closed, requests go through the inbox this long before it is tried again. */
    static volatile long retryAfterMs = 2_000;

    private final RedisCluster cluster;
    private final NodeInbox inbox;
    /** Messages of an unknown type skipped on links (a later version's node in the cluster). */
    private final java.util.concurrent.atomic.AtomicLong unknownSkipped = new java.util.concurrent.atomic.AtomicLong();
    private final Transport transport;
    /** TLS on the links, when the cluster's Redis is reached over TLS; null: plain TCP. */
    private final LinkTls tls;
    private final Channel listener;
    /** This node's link address as the other nodes are told it, {@code host:port}. */
    final String address;
    /** The cluster's link secret, as last read from Redis (it changes only if Redis lost it). */
    private volatile byte[] secret;
    /**
     * Links this node opened, per peer node one per loop of this node, on that loop: a request goes on the link of
     * the loop it is made on (one made on another thread, on the first loop's), so its answer is read on the loop
     * that waits for it, with no other thread woken on this side; the requests one thread makes keep their order
     * (one API connection's pushes, the Redis connection's script answers). Requests made on different threads
     * have no order between them but the one their answers give: one answered was taken by the peer already.
     */
    private final Map<String, Link[]> links = new ConcurrentHashMap<>();
    /** This node's loops, in {@link #links} order. */
    private final EventLoop[] loopsInOrder;
    /** Links other nodes opened to this one. */
    private final ChannelGroup accepted = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private volatile boolean closed;
    /** Requests sent over a link (not through the inbox stream). */
    final LongAdder requestsOverLinks = new LongAdder();
    /** Links that could not be opened or were refused, and links that broke. */
    final LongAdder linkFailures = new LongAdder();
    /** Peers whose link failure was logged, until a link to them is up again: one line per outage. */
    private final Map<String, Boolean> failureLogged = new ConcurrentHashMap<>();

    /**
     * A link to one peer: {@link #ready} once the peer accepted this node's proof. Requests to the peer keep their
     * order across the switch between the stream and the link: while requests sent through the stream are not
     * answered, the link holds the next ones (up to {@link #MAX_HELD}) and sends them once the last is answered;
     * when it breaks, what it held goes through the stream, in order.
     */
    final class Link {
        final String node;
        /** The loop it is opened on, whose requests it carries. */
        final EventLoop loop;
        /** Whether an attempt to open it is under way. */
        final java.util.concurrent.atomic.AtomicBoolean connecting = new java.util.concurrent.atomic.AtomicBoolean();
        volatile Channel channel;
        volatile boolean ready;
        /** Ready and no request to the peer through the stream unanswered: requests go on the link. */
        private volatile boolean switched;
        /** Requests to the peer sent through the stream and not answered yet (guarded by this). */
        private int streamInFlight;
        /** Requests waiting for those to be answered before they go on the link (guarded by this). */
        private final java.util.ArrayDeque<Held> held = new java.util.ArrayDeque<>();
        /** The peer's process, as its listener named itself. */
        volatile String instance;
        /** While down: requests go through the inbox until then. */
        volatile long retryAtNs = System.nanoTime();
        /** Dropped by {@link #keepOnly} (its node holds no lease): a connection it opens after is closed at once. */
        volatile boolean dropped;

        Link(String node, EventLoop loop) {
            this.node = node;
            this.loop = loop;
        }

        /** Sends request {@code id} to the peer: on the link when it is up, else through its inbox stream. */
        void send(long id, byte[] bytes, Consumer<InboxMessage> done) {
            if (switched && inbox.onLink(this, id, bytes, done)) {
                requestsOverLinks.increment();
                return;
            }
            synchronized (this) {
                if (ready && !switched && held.size() < MAX_HELD) {
                    held.add(new Held(id, bytes, done));
                    return;
                }
                if (!ready || !switched) {
                    sendHeldThroughStream(); // the bound reached: they go first, the stream keeps the order
                    streamInFlight++;
                    inbox.throughStream(node, id, bytes, done, this);
                    return;
                }
            }
            // Switched meanwhile, or it broke as this request tried it: once more, which decides for good.
            send(id, bytes, done);
        }

        /** A request sent through the stream was answered (or given up). */
        void streamAnswered() {
            synchronized (this) {
                streamInFlight--;
                switchIfClear();
            }
        }

        /** Up: requests go on it once nothing sent through the stream is unanswered (guarded by this). */
        private void switchIfClear() {
            if (!ready || streamInFlight > 0 || switched) {
                return;
            }
            while (!held.isEmpty()) {
                Held h = held.poll();
                if (inbox.onLink(this, h.id(), h.bytes(), h.done())) {
                    requestsOverLinks.increment();
                } else {
                    streamInFlight++;
                    inbox.throughStream(node, h.id(), h.bytes(), h.done(), this);
                }
            }
            switched = streamInFlight == 0 && ready;
        }

        /** What it held goes through the stream, in order (guarded by this). */
        private void sendHeldThroughStream() {
            while (!held.isEmpty()) {
                Held h = held.poll();
                streamInFlight++;
                inbox.throughStream(node, h.id(), h.bytes(), h.done(), this);
            }
        }

        private synchronized void up() {
            ready = true;
            switchIfClear();
        }

        private synchronized void down() {
            ready = false;
            switched = false;
            channel = null;
            sendHeldThroughStream();
        }
    }

    /** A request held until the requests sent through the stream before it are answered. */
    private record Held(long id, byte[] bytes, Consumer<InboxMessage> done) {
    }

    /** Requests one link holds at most while the switch from the stream waits; past it, the stream takes them. */
    static final int MAX_HELD = 10_000;

    /**
     * Listens on {@code bindHost:port} (port 0: one the system picks) and announces {@code advertiseHost} and the
     * port bound (and the certificate's hash, with {@code tls}; null: plain TCP); throws {@link IllegalStateException} with one line when it cannot listen.
     */
    NodeLinks(RedisCluster cluster, NodeInbox inbox, Transport transport, EventLoopGroup loops, String bindHost,
              int port, String advertiseHost, LinkTls tls) {
        this.cluster = cluster;
        this.tls = tls;
        this.inbox = inbox;
        this.transport = transport;
        java.util.List<EventLoop> inOrder = new java.util.ArrayList<>();
        loops.forEach(e -> inOrder.add((EventLoop) e));
        this.loopsInOrder = inOrder.toArray(EventLoop[]::new);
        ServerBootstrap b = new ServerBootstrap().group(loops).channel(transport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (closed) {
                            ch.close();
                            return;
                        }
                        accepted.add(ch);
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.serverHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast("frames", new LengthFieldBasedFrameDecoder(MAX_HANDSHAKE_FRAME, 0, 4, 0,
                                4))
                                .addLast(new LengthFieldPrepender(4))
                                .addLast(new AcceptedLink());
                    }
                });
        try {
            this.listener = b.bind(bindHost, port).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            throw new IllegalStateException("--cluster-link: cannot listen on " + bindHost + ":" + port + " ("
                    + RedisCluster.reason(e) + "); give another HOST:PORT, or --cluster-link off", e);
        }
        int bound = ((InetSocketAddress) listener.localAddress()).getPort();
        this.address = tls == null ? advertiseHost + ":" + bound : tls.announce(advertiseHost + ":" + bound);
    }

    /** Takes the secret Redis holds now (set by the first node that needed it). */
    void secret(byte[] secret) {
        this.secret = secret;
    }

    /**
     * The link to {@code node} of the loop this is called on (the first loop's, elsewhere), up or not (it sends
     * through the stream while it is not), started when none is under way and the last failure is
     * {@link #retryAfterMs} old; null once closing, or before the secret is known.
     */
    Link linkTo(String node) {
        int i = loopIndex();
        Link[] perLoop = links.get(node);
        Link link = perLoop == null ? null : perLoop[i];
        if (link != null && link.switched) {
            return link;
        }
        if (closed || secret == null) {
            return null;
        }
        if (perLoop == null) {
            perLoop = links.computeIfAbsent(node, n -> {
                Link[] fresh = new Link[loopsInOrder.length];
                for (int k = 0; k < fresh.length; k++) {
                    fresh[k] = new Link(n, loopsInOrder[k]);
                }
                return fresh;
            });
            link = perLoop[i];
        }
        if (link.channel == null && System.nanoTime() - link.retryAtNs >= 0 && link.connecting.compareAndSet(false,
                true)) {
            connect(link);
        }
        return link;
    }

    /** The index of the loop this runs on, 0 on a thread that is none of them. */
    private int loopIndex() {
        for (int i = 0; i < loopsInOrder.length; i++) {
            if (loopsInOrder[i].inEventLoop()) {
                return i;
            }
        }
        return 0;
    }

    /** Every link this node opened. */
    private java.util.stream.Stream<Link> allLinks() {
        return links.values().stream().flatMap(java.util.Arrays::stream);
    }

    private void connect(Link link) {
        cluster.redis().hget(Keys.LINKS, Script.bytes(link.node)).whenComplete((addr, e) -> {
            if (e != null || addr == null) {
                failed(link, e != null ? "Redis did not answer: " + RedisCluster.reason(e)
                        : "it announces no link address (an older version, or --cluster-link off)", null);
                return;
            }
            String announced = new String(addr, StandardCharsets.UTF_8);
            int tlsAt = announced.indexOf(LinkTls.ANNOUNCED);
            String hostPort = tlsAt < 0 ? announced : announced.substring(0, tlsAt);
            String peerCertificate = tlsAt < 0 ? null : announced.substring(tlsAt + LinkTls.ANNOUNCED.length());
            if (peerCertificate == null && tls != null) {
                failed(link, "its link takes no TLS (an older version), and this node's links do, as its Redis is "
                        + "reached over TLS", hostPort);
                return;
            }
            int colon = hostPort.lastIndexOf(':');
            String host = hostPort.substring(0, Math.max(0, colon));
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException bad) {
                failed(link, "a malformed link address", hostPort);
                return;
            }
            Bootstrap b = new Bootstrap().group(link.loop).channel(transport.socketChannelClass())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, cluster.timeoutMs)
                    // Requests a stalled peer has not read: past 8 MiB it gets no more (503) until it reads again.
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new io.netty.channel.WriteBufferWaterMark(
                            4 << 20, 8 << 20))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (peerCertificate != null) {
                                ch.pipeline().addLast("tls", LinkTls.clientHandler(ch.alloc(), peerCertificate,
                                        host, port));
                            }
                            ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, 4, 0, 4))
                                    .addLast(new LengthFieldPrepender(4))
                                    .addLast(new OpenedLink(link, hostPort));
                        }
                    });
            if (io.netty.util.NetUtil.isValidIpV4Address(host) || io.netty.util.NetUtil.isValidIpV6Address(host)) {
                dial(b, link, new InetSocketAddress(host, port), hostPort); // an address: nothing to look up
                return;
            }
            // A name (--cluster-link pod-0.svc:7100) is looked up off the loops: Netty would look it up on the link's
            // event loop, whose clients all stop while a slow or absent DNS server answers (every retry, 2 s apart,
            // while the peer is gone).
            try {
                LOOKUPS.execute(() -> {
                    try {
                        dial(b, link, new InetSocketAddress(java.net.InetAddress.getByName(host), port), hostPort);
                    } catch (java.net.UnknownHostException | RuntimeException bad) {
                        failed(link, "cannot look " + host + " up: " + RedisCluster.reason(bad), hostPort);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException full) {
                failed(link, "too many host names being looked up", hostPort);
            }
        });
    }

    /**
     * Where the names of links' peers are looked up (at most 2 at once, threads gone when idle); at most 1,000 wait,
     * one per link being opened.
     */
    private static final java.util.concurrent.ThreadPoolExecutor LOOKUPS = new java.util.concurrent.ThreadPoolExecutor(
            2, 2, 30, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(1_000), r -> {
                Thread t = new Thread(r, "switchboard-link-dns");
                t.setDaemon(true);
                return t;
            });

    static {
        LOOKUPS.allowCoreThreadTimeOut(true);
    }

    /** Connects {@code link} to {@code to} with {@code b}; from any thread. */
    private void dial(Bootstrap b, Link link, InetSocketAddress to, String hostPort) {
        try {
            b.connect(to)
                    .addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            failed(link, RedisCluster.reason(f.cause()), hostPort);
                        } else {
                            link.channel = f.channel();
                            link.connecting.set(false);
                            // Not proven within the timeout: closed (and counted as failed by the close).
                            f.channel().eventLoop().schedule(() -> {
                                if (!link.ready) {
                                    f.channel().close();
                                }
                            }, cluster.timeoutMs, TimeUnit.MILLISECONDS);
                            if (closed || link.dropped) {
                                f.channel().close();
                            }
                        }
                    });
        } catch (RuntimeException bad) { // an address that cannot be connected to
            failed(link, RedisCluster.reason(bad), hostPort);
        }
    }

    /** A link to {@code link.node} could not be opened or broke: the inbox carries its requests for a while. */
    private void failed(Link link, String why, String hostPort) {
        link.down();
        link.connecting.set(false);
        link.retryAtNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retryAfterMs);
        linkFailures.increment();
        inbox.linkClosed(link);
        if (!closed && failureLogged.putIfAbsent(link.node, Boolean.TRUE) == null) {
            log.warn("cluster: no direct link to node {}{} ({}); requests to it go through Redis meanwhile",
                    link.node, hostPort == null ? "" : " at " + hostPort, why);
        }
    }

    /**
     * Drops the links whose peer's lease now names another process than the one linked to: that process was taken
     * for dead, and the new one (which holds the node's clients now) gets a link of its own. {@code holders}: node
     * to the process holding its lease.
     */
    void keepOnly(Map<String, String> holders) {
        allLinks().forEach(link -> {
            String holder = holders.get(link.node);
            Channel ch = link.channel;
            if (ch != null && link.instance != null && !link.instance.equals(holder)) {
                ch.close();
            }
        });
        // A node without a lease: nothing to keep for it, and its links are closed (a process that lost its lease
        // without ending, cut off or stopped, would otherwise keep them open, out of every count, for as long as
        // the connection lasts; a link opens again once it holds a lease).
        links.entrySet().removeIf(e -> {
            if (holders.containsKey(e.getKey()) || e.getKey().equals(cluster.node)) {
                return false;
            }
            for (Link link : e.getValue()) {
                if (link == null) {
                    continue;
                }
                link.dropped = true; // one being opened now is closed once open: it is out of every count
                Channel ch = link.channel;
                if (ch != null) {
                    ch.close();
                }
            }
            return true;
        });
    }

    /** Links up now, this node's own (one per peer and loop). */
    long up() {
        return allLinks().filter(l -> l.ready).count();
    }

    /** Stops listening and closes every link; requests in flight on them are answered as unanswered. */
    void close() {
        closed = true;
        listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        accepted.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        allLinks().forEach(link -> {
            Channel ch = link.channel;
            if (ch != null) {
                ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            }
        });
    }

    private static byte[] mac(byte[] key, String nonce, String to, String from) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal((nonce + "\n" + to + "\n" + from).getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }

    private static byte[] bytes(ByteBuf frame) {
        return ByteBufUtil.getBytes(frame);
    }

    /** Writes one frame on a link (its length prefix added by the pipeline); a failure closes the link. */
    static void writeFrame(Channel ch, byte[] frame) {
        ch.writeAndFlush(Unpooled.wrappedBuffer(frame), ch.voidPromise());
    }

    /** A link this node opened: the peer's hello, this node's proof, the peer's OK; then answers to requests. */
    private final class OpenedLink extends SimpleChannelInboundHandler<ByteBuf> {
        private final Link link;
        private final String hostPort;
        private boolean proved;
        /** Why the link closed, for the log line. */
        private String why = "it closed the link before it was up";

        OpenedLink(Link link, String hostPort) {
            this.link = link;
            this.hostPort = hostPort;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            byte[] b = bytes(frame);
            if (link.ready) {
                try {
                    inbox.answered(InboxMessage.decode(b));
                } catch (InboxMessage.UnknownType later) {
                    skippedUnknown(later); // a later version's: the link stays
                } catch (IOException bad) {
                    ctx.close(); // a peer that sends what is not a message is not a peer to keep
                }
                return;
            }
            String[] hello = new String(b, StandardCharsets.UTF_8).split("\n");
            byte[] key = secret;
            if (!proved) {
                if (hello.length != 4 || !HELLO.equals(hello[0]) || !link.node.equals(hello[1]) || key == null) {
                    why = hello.length == 4 && HELLO.equals(hello[0]) ? "that address is node " + hello[1] + "'s now"
                            : "not a node's link";
                    ctx.close();
                    return;
                }
                link.instance = hello[2];
                proved = true;
                byte[] proof = mac(key, hello[3], link.node, cluster.node);
                writeFrame(ctx.channel(), (cluster.node + "\n" + HexFormat.of().formatHex(proof))
                        .getBytes(StandardCharsets.UTF_8));
            } else if (java.util.Arrays.equals(b, OK)) {
                link.up();
                why = "it closed the link";
                if (failureLogged.remove(link.node) != null) {
                    log.info("cluster: direct link to node {} at {} up again", link.node, hostPort);
                }
            } else {
                why = "it refused this node's proof (" + new String(b, StandardCharsets.UTF_8) + ")";
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            failed(link, why, hostPort);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            why = RedisCluster.reason(cause);
            ctx.close();
        }
    }

    /** A link another node opened: this node's hello, the peer's proof, then requests, each answered on it. */
    private final class AcceptedLink extends SimpleChannelInboundHandler<ByteBuf> {
        private final String nonce = HexFormat.of().formatHex(randomBytes(16));
        private String peer;
        /** Where this link's requests are answered: on it (one per link, not one per request). */
        private NodeInbox.Answers answers;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            writeFrame(ctx.channel(), (HELLO + "\n" + cluster.node + "\n" + cluster.instance + "\n" + nonce)
                    .getBytes(StandardCharsets.UTF_8));
            ctx.executor().schedule(() -> {
                if (peer == null) {
                    ctx.close(); // no proof in time
                }
            }, Math.max(1_000, cluster.timeoutMs), TimeUnit.MILLISECONDS);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            byte[] b = bytes(frame);
            if (peer != null) {
                InboxMessage m;
                try {
                    m = InboxMessage.decode(b);
                } catch (InboxMessage.UnknownType later) {
                    skippedUnknown(later); // a later version's: the link stays
                    return;
                } catch (IOException bad) {
                    ctx.close();
                    return;
                }
                inbox.handle(m, answers);
                return;
            }
            String[] proof = new String(b, StandardCharsets.UTF_8).split("\n");
            byte[] key = secret;
            if (proof.length != 2 || key == null || !MessageDigest.isEqual(mac(key, nonce, cluster.node, proof[0]),
                    hexOrEmpty(proof[1]))) {
                writeFrame(ctx.channel(), "bad proof".getBytes(StandardCharsets.UTF_8));
                ctx.close();
                return;
            }
            peer = proof[0];
            Channel ch = ctx.channel();
            answers = (to, reply) -> writeFrame(ch, InboxMessage.encode(reply));
            ctx.pipeline().replace("frames", "frames", new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, 4, 0, 4));
            writeFrame(ctx.channel(), OK);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static byte[] hexOrEmpty(String hex) {
        try {
            return HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            return new byte[0];
        }
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new java.security.SecureRandom().nextBytes(b);
        return b;
    }

    /** Where links listen when {@code --cluster-link} is not given: the address this host reaches Redis from. */
    static String localAddressTowards(String host, int port) {
        try (java.net.DatagramSocket probe = new java.net.DatagramSocket()) {
            probe.connect(new InetSocketAddress(host, port)); // no packet sent: only the route is looked up
            java.net.InetAddress local = probe.getLocalAddress();
            return local == null || local.isAnyLocalAddress() ? "127.0.0.1" : local.getHostAddress();
        } catch (IOException | RuntimeException e) {
            return "127.0.0.1";
        }
    }

    private void skippedUnknown(InboxMessage.UnknownType e) {
        if (unknownSkipped.getAndIncrement() % 1000 == 0) {
            log.warn("cluster: skipped a message a node sent over a link ({}; every 1000th is logged): a node of a "
                    + "later version (a rolling upgrade)?", e.getMessage());
        }
    }
}
