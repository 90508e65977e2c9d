package io.switchboard.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;

/** Ports for tests: one a process binds (again) later, and one where nothing listens. */
public final class FreePorts {
    private FreePorts() {
    }

    /**
     * A free loopback port below the kernel's ephemeral range (32768 and up by default), which a port given up
     * while its process restarts would otherwise be: any outgoing connection (a client reconnecting to it) could
     * take it meanwhile, and the restart would fail with "Address already in use".
     */
    public static int belowTheEphemeralRange() throws IOException {
        Random r = new Random();
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = 20_000 + r.nextInt(10_000);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                return port;
            } catch (IOException e) {
                // taken: another
            }
        }
        throw new IOException("no free port in 20000-29999");
    }

    /**
     * A loopback port where nothing listens, held (bound, not listening) until the socket is closed: connects to it
     * are refused, and no other socket can take the port meanwhile (a port given up could be bound by another
     * process's server, or become the source port of a connect to it: a self-connect, which succeeds).
     */
    public static Socket refusing() throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return s;
    }
}
