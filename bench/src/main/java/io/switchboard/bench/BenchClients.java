package io.switchboard.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.bench.protocol.BenchConnection;
import io.switchboard.transport.Transport;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The bench's in-process clients: their event loops, the paced connect ramp, and the drop and jittered
 * reconnect of a storm. The ramp and {@link #dropAll()} run on the run's calling thread; connections live on
 * their own event loops, and a storm's reconnections are scheduled there.
 */
final class BenchClients {
    private final BenchRun.Plan plan;
    private final BenchStats stats;
    private final PrintWriter out;
    /** Reports the ramp's phase once a second; may throw to abort the ramp (a worker told to stop). */
    private final Consumer<String> progress;

    private EventLoopGroup group;
    private Map<EventLoop, BenchLoop> loops;
    private Bootstrap bootstrap;
    /** Client i's first connection, set by the ramp on the calling thread: what a storm drops. */
    private Channel[] channels;
    /** After a storm drop, lost connections come back until the run ends. */
    private volatile boolean reconnecting;

    BenchClients(BenchRun.Plan plan, BenchStats stats, PrintWriter out, Consumer<String> progress) {
        this.plan = plan;
        this.stats = stats;
        this.out = out;
        this.progress = progress;
    }

    /** Creates the client event loops and the bootstrap every connection is cloned from. */
    void start() {
        group = plan.transport().newGroup(plan.eventLoops(), new DefaultThreadFactory("bench", true));
        loops = new IdentityHashMap<>();
        for (EventExecutor e : group) {
            loops.put((EventLoop) e, new BenchLoop((EventLoop) e));
        }
        bootstrap = new Bootstrap().group(group).channel(plan.transport().socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) plan.connectTimeout().toMillis());
        if (plan.transport() == Transport.EPOLL && !plan.sources().isEmpty()) {
            bootstrap.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
        }
        channels = new Channel[plan.connections()];
    }

    /** Closes every client connection (no storm reconnects any more) and stops the event loops. */
    void stop() {
        reconnecting = false;
        if (group == null) {
            return;
        }
        for (BenchLoop l : loops.values()) {
            l.loop().execute(l::closeAll);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /**
     * Closes every open connection at once (one task per event loop); each comes back through
     * {@link #reconnectLater}. Returns how many it dropped.
     */
    long dropAll() {
        reconnecting = true;
        Map<EventLoop, List<Integer>> byLoop = new IdentityHashMap<>();
        long n = 0;
        for (int i = 0; i < channels.length; i++) {
            Channel ch = channels[i];
            if (ch != null && ch.isActive()) {
                byLoop.computeIfAbsent(ch.eventLoop(), l -> new ArrayList<>()).add(i);
                n++;
            }
        }
        stats.stormDropped.add(n);
        byLoop.forEach((loop, clients) -> loop.execute(() -> {
            for (int i : clients) {
                channels[i].close();
                reconnectLater(loop, i, 0, -1);
            }
        }));
        return n;
    }

    /** Schedules client {@code client}'s next connection attempt on {@code loop} (any thread). */
    private void reconnectLater(EventLoop loop, int client, int attempt, long retryMs) {
        if (!reconnecting) {
            return;
        }
        long delayMs = StormReconnect.delayMs(attempt, retryMs, ThreadLocalRandom.current());
        try {
            loop.schedule(() -> {
                if (reconnecting) {
                    connect(client, new StormReconnect(this::reconnectLater, client, attempt));
                }
            }, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // The run is ending: the loops take no more tasks.
        }
    }

    // ---- connect ramp

    void ramp() throws InterruptedException {
        ListenCounters listenAtStart = ListenCounters.read();
        Semaphore pending = new Semaphore(plan.maxPendingConnects());
        Pacer pacer = new Pacer(Math.max(1, plan.rate()), plan.rampUp().toNanos());
        long nextProgress = pacer.startNs() + 1_000_000_000L;
        for (int i = 0; i < plan.connections(); i++) {
            long now = pacer.awaitTurn(i);
            if (now >= nextProgress) {
                progress.accept("connecting");
                nextProgress += 1_000_000_000L;
            }
            pending.acquire();
            connect(i, null).addListener(done -> pending.release());
        }
        // Wait for handshakes to finish: until all are in, or no progress for 10 s.
        long lastCount = -1;
        long lastChange = System.nanoTime();
        while (stats.established.sum() + stats.errorCount() < plan.connections()) {
            BenchRun.sleepUntilNextSecond();
            progress.accept("handshaking");
            long n = stats.established.sum() + stats.errorCount();
            if (n != lastCount) {
                lastCount = n;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange > TimeUnit.SECONDS.toNanos(10)) {
                StallSigns signs = StallSigns.read(listenAtStart, stats);
                out.println("bench: no progress for 10 s; continuing with " + stats.established.sum()
                        + " clients; likely causes: " + signs.causes());
                break;
            }
        }
    }

    /**
     * Opens client {@code i}'s connection; any thread, never blocks. {@code storm} is set for a reconnection after
     * a storm drop: it goes in front of the protocol handler and asks for the next attempt when this one is lost.
     */
    private ChannelFuture connect(int i, StormReconnect storm) {
        InetSocketAddress target = plan.targets().get(i % plan.targets().size());
        String id = plan.idPrefix() + (plan.idOffset() + i);
        long connectStart = System.nanoTime();
        stats.attempted.increment();
        Bootstrap cb = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                if (storm != null) {
                    ch.pipeline().addLast(storm);
                }
                ch.pipeline().addLast(plan.protocol().newHandler(loops.get(ch.eventLoop()).env(stats), id,
                        plan.hbSec(), connectStart));
            }
        });
        ChannelFuture f = plan.sources().isEmpty() ? cb.connect(target)
                : cb.connect(target, new InetSocketAddress(plan.sources().get(i % plan.sources().size()), 0));
        if (storm == null) {
            channels[i] = f.channel();
        }
        f.addListener(done -> {
            if (!done.isSuccess()) {
                stats.error(classify(done.cause()));
                if (storm != null) {
                    reconnectLater(group.next(), i, storm.attempt() + 1, -1);
                }
            }
        });
        return f;
    }

    /** Connect errors by kind, as {@link #classify} names them (and {@link StallSigns} looks them up). */
    static final String OUT_OF_PORTS = "EADDRNOTAVAIL: out of source ports, add source addresses with --source";
    static final String OUT_OF_FILES = "EMFILE: out of file descriptors (see 'switchboard doctor --role client')";

    static String classify(Throwable t) {
        String m = String.valueOf(t.getMessage());
        if (m.contains("Cannot assign requested address") || m.contains("EADDRNOTAVAIL")) {
            return OUT_OF_PORTS;
        }
        if (m.contains("Too many open files") || m.contains("EMFILE")) {
            return OUT_OF_FILES;
        }
        if (m.contains("Connection refused")) {
            return "connection refused";
        }
        if (t instanceof io.netty.channel.ConnectTimeoutException) {
            return "connect timeout";
        }
        return "connect: " + BenchConnection.shortMessage(t);
    }
}
