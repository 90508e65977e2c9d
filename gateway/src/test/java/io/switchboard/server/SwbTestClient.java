package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A deliberately small SWB/1 client over a plain {@link Socket}, line by line as a person with {@code nc} would
 * speak it. Every read is bounded by {@link #READ_TIMEOUT_MS}, so a missing frame fails the test instead of
 * hanging it. Not thread-safe: one test thread drives it.
 */
public final class SwbTestClient implements AutoCloseable {
    public static final int READ_TIMEOUT_MS = 5000;
    private static final int MAX_LINE_BYTES = 64 * 1024;

    /** One {@code MSG} frame as received. */
    public record Msg(long seq, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final BufferedInputStream in;
    private final OutputStream out;

    private SwbTestClient(Socket socket) throws IOException {
        this(socket, socket.getInputStream(), socket.getOutputStream());
    }

    private SwbTestClient(Socket socket, InputStream in, OutputStream out) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(READ_TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        this.in = new BufferedInputStream(in);
        this.out = out;
    }

    /** SWB/1 over an upgraded WebSocket ({@code /swb}): each write is one binary message. */
    public static SwbTestClient over(WsTestClient ws) throws IOException {
        return new SwbTestClient(ws.socket(), ws.payloadStream(), ws.messageStream());
    }

    /** Connects to {@code host:port}, from {@code localAddress} when not null (any loopback address works). */
    public static SwbTestClient connect(String host, int port, String localAddress) throws IOException {
        return connect(host, port, localAddress, 0);
    }

    /** As {@link #connect(String, int, String)}, with a small receive buffer when {@code receiveBufferBytes > 0}. */
    public static SwbTestClient connect(String host, int port, String localAddress, int receiveBufferBytes)
            throws IOException {
        Socket s = new Socket();
        try {
            if (receiveBufferBytes > 0) {
                s.setReceiveBufferSize(receiveBufferBytes); // before connect, so the window is small from the start
            }
            if (localAddress != null) {
                s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
            }
            s.connect(new InetSocketAddress(host, port), READ_TIMEOUT_MS);
            return new SwbTestClient(s);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    // ---- writing

    /** Sends one control line; the LF is added. */
    public void send(String line) throws IOException {
        sendRaw((line + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void ack(long seq) throws IOException {
        send("ACK " + seq);
    }

    // ---- reading

    /** The next line without its LF, or {@code null} at end of stream. Fails the test after the read timeout. */
    public String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (line.size() == 0) {
                    return null;
                }
                fail("stream ended inside a line: '" + line.toString(StandardCharsets.ISO_8859_1) + "'");
            }
            if (b == '\n') {
                return line.toString(StandardCharsets.ISO_8859_1);
            }
            line.write(b);
            if (line.size() > MAX_LINE_BYTES) {
                fail("line longer than " + MAX_LINE_BYTES + " bytes");
            }
        }
    }

    /** Reads one line and checks that it starts with {@code prefix}; returns the whole line. */
    public String expectLine(String prefix) throws IOException {
        String line = readLine();
        if (line == null) {
            fail("expected a line starting with '" + prefix + "' but the server closed the connection");
        }
        assertTrue(line.startsWith(prefix), () -> "expected a line starting with '" + prefix + "' but got '"
                + line + "'");
        return line;
    }

    /** Reads {@code MSG <seq> <n>}, then exactly n payload bytes, then the LF that ends the frame. */
    public Msg readMsg() throws IOException {
        String header = expectLine("MSG ");
        String[] parts = header.split(" ");
        assertEquals(3, parts.length, () -> "MSG header must be 'MSG <seq> <n>': '" + header + "'");
        long seq = Long.parseLong(parts[1]);
        int n = Integer.parseInt(parts[2]);
        byte[] payload = in.readNBytes(n);
        assertEquals(n, payload.length, "stream ended inside a MSG payload");
        assertEquals('\n', in.read(), "MSG payload must be followed by LF");
        return new Msg(seq, payload);
    }

    /** Sends {@code HELLO <id> [options]} and expects {@code WELCOME <id> ...}; returns the WELCOME line. */
    public String hello(String clientId, String... options) throws IOException {
        StringBuilder sb = new StringBuilder("HELLO ").append(clientId);
        for (String o : options) {
            sb.append(' ').append(o);
        }
        send(sb.toString());
        return expectLine("WELCOME " + clientId + " ");
    }

    /**
     * Sends {@code PING} and expects {@code PONG} as the very next line: proves that nothing else was pending
     * for this client and that the server has processed every frame sent before.
     */
    public void sync() throws IOException {
        send("PING");
        assertEquals("PONG", readLine(), "expected nothing pending before PONG");
    }

    /**
     * Expects the server to have closed the connection (the next read is end of stream), then closes this side as
     * a real client does: the server keeps reading until the client closes (lingering close).
     */
    public void expectEof() throws IOException {
        int b = in.read();
        assertEquals(-1, b, "expected the server to close the connection");
        close();
    }

    /** Whether nothing arrives within {@code ms}; what does arrive stays for the next read. */
    public boolean silentFor(int ms) throws IOException {
        socket.setSoTimeout(ms);
        try {
            in.mark(1);
            int b = in.read();
            in.reset();
            return false;
        } catch (java.net.SocketTimeoutException e) {
            return true;
        } finally {
            socket.setSoTimeout(READ_TIMEOUT_MS);
        }
    }

    /** Leaves politely: {@code BYE}, then waits for the server to close. */
    public void leave() throws IOException {
        send("BYE");
        expectEof();
    }

    /** The client side of the connection as the server sees it: {@code ip:port}. */
    public String localAddress() {
        return socket.getLocalAddress().getHostAddress() + ":" + socket.getLocalPort();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test socket; nothing to do
        }
    }
}
