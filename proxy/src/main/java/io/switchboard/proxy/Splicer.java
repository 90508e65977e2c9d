package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.unix.Errors;
import io.netty.util.UncheckedBooleanSupplier;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code --splice} half of a {@link Link}: bytes move socket → pipe → socket with splice(2) and never enter the
 * JVM. Netty's (deprecated) {@link AbstractEpollStreamChannel#spliceTo(AbstractEpollStreamChannel, int)} does the
 * moving; this class paces it and ends it. One {@link Way} per direction, each on its own pipe owned by the target
 * channel (two pipes: 6 file descriptors per connection instead of 2). Touched by the connection's event loop only.
 *
 * <p>Netty 4.2.18 facts this relies on (AbstractEpollStreamChannel):
 * <ul>
 *   <li>A read cycle of the source ({@code epollInReady}) splices at most {@code guess()} bytes (64 KiB here) into
 *   the pipe and queues a write of them on the target, then fires {@code channelReadComplete}, never
 *   {@code channelRead}. The bytes are reported through the read handle's {@code lastBytesRead}: {@link Way} counts
 *   them for the metrics and the idle timeout.</li>
 *   <li>With AUTO_READ off, the cycle ends by clearing EPOLLIN even when {@code read()} was called during it, so
 *   the next read is requested from the event loop's task queue, after the cycle.</li>
 *   <li>The pending write on the target (a {@code SpliceOutTask}, 8 bytes plus the 96-byte entry overhead) exceeds
 *   the water mark {@link OutboundSockets#ONE_CHUNK}: the target is unwritable while bytes wait in its pipe, so
 *   "target writable" means "pipe empty", and the source is read again only then (at most one pipe of bytes in
 *   flight per direction).</li>
 *   <li>The source's FIN arrives as {@code ChannelInputShutdownEvent} after a single cycle, possibly with more bytes
 *   still queued in the socket, and shutting the target's output down would fail writes still waiting in the pipe.
 *   So the FIN is passed on only when a cycle on an empty pipe moved nothing: every byte before the FIN went out.</li>
 *   <li>That drain re-arms EPOLLIN on a socket whose interest set went empty after its FIN, which Netty 4.2.18 fails
 *   without {@code io.switchboard.transport.EpollRearm}.</li>
 * </ul>
 */
final class Splicer {
    private static final Logger log = LoggerFactory.getLogger(Splicer.class);
    /** One cycle's splice size: a default pipe's capacity (16 pages). */
    private static final RecvByteBufAllocator CHUNK = new FixedRecvByteBufAllocator(64 * 1024);
    private static final AtomicLong lastWarnMs = new AtomicLong(Long.MIN_VALUE / 2);

    private static final int IDLE = 0;
    private static final int SPLICING = 1;
    /** The source's FIN arrived; its last bytes may still be in the socket. */
    private static final int DRAINING = 2;
    private static final int DONE = 3;

    private final Link link;
    private final ProxyMetrics metrics;
    /** Client → upstream; its allocator counts the client's reads. */
    final Way toUpstream;
    /** Upstream → client; its allocator counts the upstream's reads. */
    final Way toClient;
    private boolean counted;

    Splicer(Link link, ProxyMetrics metrics) {
        this.link = link;
        this.metrics = metrics;
        this.toUpstream = new Way(metrics.bytesToUpstream);
        this.toClient = new Way(metrics.bytesToClient);
    }

    /**
     * Starts splicing, once the upstream is connected and what was written before (PROXY header, early bytes) is
     * queued; not from a client whose input already ended.
     */
    void start(Channel client, Channel upstream, boolean clientOpen) {
        counted = true;
        metrics.splicedActive.incrementAndGet();
        toClient.begin(upstream, client);
        if (clientOpen) {
            toUpstream.begin(client, upstream);
        }
    }

    /** The way reading from {@code ch}, or null when it does not splice. */
    private Way from(Channel ch) {
        return toUpstream.src == ch && toUpstream.state != IDLE ? toUpstream
                : toClient.src == ch && toClient.state != IDLE ? toClient : null;
    }

    /** A read cycle of {@code ch} ended; false when {@code ch} does not splice (the caller forwards as usual). */
    boolean readComplete(Channel ch) {
        Way w = from(ch);
        if (w == null) {
            return false;
        }
        w.readComplete();
        return true;
    }

    /** {@code ch}'s input ended; false when {@code ch} does not splice, else the FIN is passed on once drained. */
    boolean inputShutdown(Channel ch) {
        Way w = from(ch);
        if (w == null || w.state == DONE) {
            return false;
        }
        w.state = DRAINING; // the cycle that saw the FIN ends with readComplete, which checks for the end
        return true;
    }

    /** {@code ch}'s pending writes changed: when its pipe emptied, the side feeding it is read again. */
    void writabilityChanged(Channel ch) {
        Way w = toUpstream.dst == ch ? toUpstream : toClient.dst == ch ? toClient : null;
        if (w != null && ch.isWritable() && (w.state == SPLICING || w.state == DRAINING)) {
            w.scheduleRead();
        }
    }

    /** A closed peer or a reset: ends a connection without being an error. */
    private static boolean ordinary(Throwable cause) {
        return cause instanceof ClosedChannelException || cause instanceof Errors.NativeIoException e
                && (e.expectedErr() == Errors.ERRNO_ECONNRESET_NEGATIVE
                || e.expectedErr() == Errors.ERRNO_EPIPE_NEGATIVE);
    }

    void release() {
        if (counted) {
            counted = false;
            metrics.splicedActive.decrementAndGet();
        }
    }

    /**
     * One direction. Also the read allocator of its source channel: the handle counts the bytes each cycle spliced
     * ({@code lastBytesRead} calls not preceded by {@code allocate}, which only reads into a buffer make).
     */
    final class Way implements RecvByteBufAllocator, Runnable, ChannelFutureListener {
        private final LongAdder bytes;
        private AbstractEpollStreamChannel src;
        private AbstractEpollStreamChannel dst;
        private int state = IDLE;
        private int cycleBytes;
        private boolean readScheduled;

        Way(LongAdder bytes) {
            this.bytes = bytes;
        }

        void begin(Channel from, Channel to) {
            src = (AbstractEpollStreamChannel) from;
            dst = (AbstractEpollStreamChannel) to;
            state = SPLICING;
            @SuppressWarnings("deprecation") // the only splice API Netty 4.2 has; removed in 5
            ChannelFuture f = src.spliceTo(dst, Integer.MAX_VALUE); // "forever": completes only by failing
            f.addListener(this);
            // Netty's splice into dst does not check that dst is still open: a src that goes on reading after dst
            // closed (a reset) splices into dst's closed pipe by its descriptor number, which another connection's
            // pipe may have taken since (its bytes in a stranger's stream), or makes dst a new pipe nobody closes.
            // So src stops at once, unless its input has ended already (nothing more is read from it): what src
            // still had to write the other way (at most a pipe, 64 KiB, of a connection its peer reset) is lost
            // rather than risk that.
            dst.closeFuture().addListener(closed -> {
                if (state != DONE && src.isOpen() && !src.isInputShutdown()) {
                    state = DONE;
                    metrics.splicedClosedWithPeer.increment();
                    src.close();
                }
            });
            if (dst.isWritable()) {
                scheduleRead();
            } // else the PROXY header or early bytes are still going out: writabilityChanged reads
        }

        void readComplete() {
            int n = cycleBytes;
            cycleBytes = 0;
            if (n > 0) {
                bytes.add(n);
                link.touch();
            }
            if (state == DONE) {
                return; // a last event on a source whose FIN was passed on (an error, then the close)
            }
            boolean pipeEmpty = dst.isWritable(); // before the flush: nothing of this cycle is waiting either
            if (state == DRAINING && n == 0 && pipeEmpty) {
                state = DONE;
                link.endOfInput(src); // every byte before the FIN is out: pass the FIN on
                return;
            }
            dst.flush();
            if (dst.isWritable()) {
                scheduleRead();
            }
        }

        void scheduleRead() {
            if (!readScheduled && state != DONE) {
                readScheduled = true;
                src.eventLoop().execute(this);
            }
        }

        /** The next read, after the cycle that asked for it (a read requested during a cycle is cleared by it). */
        @Override
        public void run() {
            readScheduled = false;
            if (state != DONE && dst.isWritable()) { // else writabilityChanged schedules it again
                src.read();
            }
        }

        /** The splice failed: a channel closed, splice(2) failed (reset, broken pipe) or pipe(2) did (EMFILE). */
        @Override
        public void operationComplete(ChannelFuture f) {
            AbstractEpollStreamChannel ch = src;
            if (!ch.isOpen()) {
                return; // the connection ended: its close failed the splice
            }
            Throwable cause = f.cause();
            if (!ordinary(cause)) {
                metrics.spliceErrors.increment();
                long now = System.currentTimeMillis();
                long last = lastWarnMs.get();
                if (now - last >= OutboundSockets.LOG_EVERY_MS && lastWarnMs.compareAndSet(last, now)) {
                    log.warn("splice failed, connection closed: {} (switchboard_proxy_splice_errors_total counts "
                            + "them; logged once a minute)", cause.toString());
                }
            }
            // After the cycle that reported it: closing the source inside its own read cycle would let the cycle
            // go on reading a closed descriptor. The source's close closes the target after its pending bytes.
            if (ch.eventLoop().isShuttingDown()) {
                ch.close();
            } else {
                ch.eventLoop().execute(ch::close);
            }
        }

        @Override
        public Handle newHandle() {
            return new Counting((ExtendedHandle) CHUNK.newHandle());
        }

        private final class Counting extends DelegatingHandle implements ExtendedHandle {
            /** The next lastBytesRead is a read into a buffer (forwarded and counted by the Link), not a splice. */
            private boolean buffered;

            Counting(ExtendedHandle chunk) {
                super(chunk);
            }

            @Override
            public ByteBuf allocate(ByteBufAllocator alloc) {
                buffered = true;
                return super.allocate(alloc);
            }

            @Override
            public void reset(ChannelConfig config) {
                cycleBytes = 0;
                super.reset(config);
            }

            @Override
            public void lastBytesRead(int n) {
                if (!buffered && n > 0) {
                    cycleBytes += n;
                }
                buffered = false;
                super.lastBytesRead(n);
            }

            @Override
            public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
                return ((ExtendedHandle) delegate()).continueReading(maybeMoreDataSupplier);
            }
        }
    }
}
