// A TCP echo server for the proxy benchmarks (bench/proxy-compare.sh): one selector thread, every byte read is
// written back; optional SO_REUSEPORT so several processes share one port (each stays under the open-file cap).
// Every 200 ms it rewrites a status file with its counters; a "burst" starts when a connection is accepted while
// none is open, which lets a script time how fast connections arrive through a proxy (first to last accept).
//   java bench/EchoServer.java HOST PORT [--reuse-port] [--status FILE]
// Standalone on purpose (no project classes): it is the upstream, not the thing measured.

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

public final class EchoServer {
    private static long open;
    private static long accepted;
    private static long burstAccepted;
    private static long burstFirstNs;
    private static long burstLastNs;
    private static long bytes;

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: EchoServer HOST PORT [--reuse-port] [--status FILE]");
            System.exit(2);
        }
        boolean reusePort = false;
        Path status = null;
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--reuse-port" -> reusePort = true;
                case "--status" -> status = Path.of(args[++i]);
                default -> {
                    System.err.println("EchoServer: unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        Selector selector = Selector.open();
        ServerSocketChannel server = ServerSocketChannel.open();
        server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        if (reusePort) {
            server.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        }
        server.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 4096);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        System.out.println("EchoServer: listening on " + args[0] + ":" + args[1] + (reusePort ? " (SO_REUSEPORT)" : ""));
        System.out.flush();

        ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
        long nextStatus = 0;
        while (true) {
            selector.select(200);
            for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                SelectionKey key = it.next();
                it.remove();
                try {
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        try {
                            accept(server, selector);
                        } catch (IOException e) {
                            // EMFILE and the like: leave the rest in the accept queue, the listener stays open.
                        }
                        continue;
                    }
                    SocketChannel ch = (SocketChannel) key.channel();
                    if (key.isWritable()) {
                        ByteBuffer pending = (ByteBuffer) key.attachment();
                        ch.write(pending);
                        if (!pending.hasRemaining()) {
                            key.attach(null);
                            key.interestOps(SelectionKey.OP_READ);
                        }
                        continue;
                    }
                    if (key.isReadable()) {
                        buf.clear();
                        int n = ch.read(buf);
                        if (n < 0) {
                            close(key);
                            continue;
                        }
                        bytes += n;
                        buf.flip();
                        ch.write(buf);
                        if (buf.hasRemaining()) {
                            // Slow reader: keep the rest and stop reading until it is written (backpressure).
                            ByteBuffer pending = ByteBuffer.allocate(buf.remaining());
                            pending.put(buf).flip();
                            key.attach(pending);
                            key.interestOps(SelectionKey.OP_WRITE);
                        }
                    }
                } catch (IOException e) {
                    close(key);
                }
            }
            long now = System.nanoTime();
            if (status != null && now >= nextStatus) {
                nextStatus = now + 200_000_000L;
                Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
                Files.writeString(tmp, String.format("open=%d accepted=%d burst_accepted=%d burst_first_ns=%d "
                        + "burst_last_ns=%d bytes=%d%n", open, accepted, burstAccepted, burstFirstNs, burstLastNs, bytes));
                Files.move(tmp, status, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }

    private static void accept(ServerSocketChannel server, Selector selector) throws IOException {
        SocketChannel ch;
        while ((ch = server.accept()) != null) {
            long now = System.nanoTime();
            if (open == 0) {
                burstAccepted = 0;
                burstFirstNs = now;
            }
            open++;
            accepted++;
            burstAccepted++;
            burstLastNs = now;
            try {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.register(selector, SelectionKey.OP_READ);
            } catch (IOException e) {
                open--;
                ch.close();
            }
        }
    }

    private static void close(SelectionKey key) {
        key.cancel();
        try {
            key.channel().close();
        } catch (IOException ignored) {
            // closing anyway
        }
        open--;
    }
}
