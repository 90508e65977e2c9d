package io.switchboard.proxy;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-test upstream on a loopback port chosen by the kernel: one virtual thread per accepted connection runs the
 * given behaviour. Records the peer address of every connection. Closing it closes every connection.
 */
final class TestUpstream implements Closeable {
    /** What the upstream does with one accepted connection. */
    @FunctionalInterface
    interface Behaviour {
        void serve(Socket s) throws IOException;
    }

    /** Echoes until EOF, then passes the FIN back (half-close) and lets the socket close when the peer closes. */
    static final Behaviour ECHO = s -> {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] buf = new byte[16 * 1024];
        for (int n; (n = in.read(buf)) >= 0; ) {
            out.write(buf, 0, n);
        }
        s.shutdownOutput();
    };

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final ConcurrentLinkedQueue<InetSocketAddress> peers = new ConcurrentLinkedQueue<>();
    final AtomicInteger accepted = new AtomicInteger();
    final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

    TestUpstream(Behaviour behaviour) throws IOException {
        // Opened through a channel so that accepted sockets have one too (non-blocking writes in some tests).
        ServerSocketChannel channel = ServerSocketChannel.open();
        channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        server = channel.socket();
        threads.execute(() -> acceptLoop(behaviour));
    }

    /** Whether a connect to {@code a} is refused (a closed upstream may still accept for a moment). */
    static boolean refuses(InetSocketAddress a) {
        try (Socket s = new Socket()) {
            s.connect(a, 1000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    int port() {
        return server.getLocalPort();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port());
    }

    int open() {
        int n = 0;
        for (Socket s : sockets) {
            if (!s.isClosed()) {
                n++;
            }
        }
        return n;
    }

    private void acceptLoop(Behaviour behaviour) {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            sockets.add(s);
            peers.add((InetSocketAddress) s.getRemoteSocketAddress());
            accepted.incrementAndGet();
            threads.execute(() -> {
                try (s) {
                    behaviour.serve(s);
                    // Wait for the peer's close so that the proxy sees the FIN first, then close.
                    s.getInputStream().read();
                } catch (IOException e) {
                    // the test closed the connection
                } catch (Throwable t) {
                    failures.add(t);
                }
            });
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        threads.shutdownNow();
    }
}
