package io.switchboard.server;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client for tests, written from RFC 6455 over a plain socket so that it can also send what a real
 * client never would (unmasked frames, RSV bits, stray continuations). {@link #payloadStream()} and
 * {@link #messageStream()} let the SWB/1 and MQTT test clients run over it unchanged. Not thread-safe.
 */
public final class WsTestClient implements AutoCloseable {
    public static final int OP_CONTINUATION = 0;
    public static final int OP_TEXT = 1;
    public static final int OP_BINARY = 2;
    public static final int OP_CLOSE = 8;
    public static final int OP_PING = 9;
    public static final int OP_PONG = 10;

    /** One frame from the server. */
    public record Frame(int opcode, boolean fin, int rsv, boolean masked, byte[] payload) {
        /** A close frame's status code, or -1 for none. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }

        public String closeReason() {
            return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
        }
    }

    /** The answer to an upgrade request: status, headers (lower-case names) and body (for refusals). */
    public record Answer(int status, Map<String, String> headers, String body) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private Answer answer;
    /** The close frame that ended {@link #payloadStream()}, once read. */
    private Frame close;
    private int pongs;

    private WsTestClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(SwbTestClient.READ_TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code port} and sends {@code request} as it is (for handshake tests); see {@link #answer()}. */
    public static WsTestClient request(int port, String request) throws IOException {
        WsTestClient c = new WsTestClient(new Socket("127.0.0.1", port));
        c.out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        c.out.flush();
        c.answer = c.readAnswer();
        return c;
    }

    /** A valid upgrade request for {@code path} with {@code extraHeaders} (each "Name: value"). */
    public static String upgradeRequest(int port, String path, String... extraHeaders) {
        byte[] key = new byte[16];
        ThreadLocalRandom.current().nextBytes(key);
        StringBuilder r = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n");
        for (String h : extraHeaders) {
            r.append(h).append("\r\n");
        }
        return r.append("\r\n").toString();
    }

    /** Opens a WebSocket on {@code path}; fails unless the server answers 101. */
    public static WsTestClient open(int port, String path, String... extraHeaders) throws IOException {
        WsTestClient c = request(port, upgradeRequest(port, path, extraHeaders));
        if (c.answer.status() != 101) {
            c.close();
            throw new AssertionError("expected 101, got " + c.answer);
        }
        return c;
    }

    public Answer answer() {
        return answer;
    }

    public Socket socket() {
        return socket;
    }

    private Answer readAnswer() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last = 0;
        while (last != 0x0d0a0d0a) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed in the answer's head: " + head);
            }
            head.write(b);
            last = (last << 8) | b;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
        }
        String body = "";
        if (headers.containsKey("content-length")) {
            byte[] b = new byte[Integer.parseInt(headers.get("content-length"))];
            in.readFully(b);
            body = new String(b, StandardCharsets.UTF_8);
        }
        return new Answer(status, headers, body);
    }

    // ---- frames out

    /** Sends one frame: {@code firstByte} is FIN, RSV and opcode; masked as clients must unless told otherwise. */
    public void sendFrame(int firstByte, byte[] payload, boolean masked) throws IOException {
        out.write(frame(firstByte, payload, masked));
        out.flush();
    }

    /** The bytes of one frame (see {@link #sendFrame}), to send several in one write with {@link #sendRaw}. */
    public static byte[] frame(int firstByte, byte[] payload, boolean masked) {
        ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
        f.write(firstByte);
        int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126) {
            f.write(maskBit | payload.length);
        } else if (payload.length < 65536) {
            f.write(maskBit | 126);
            f.write(payload.length >>> 8);
            f.write(payload.length);
        } else {
            f.write(maskBit | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                f.write((int) ((long) payload.length >>> shift));
            }
        }
        byte[] body = payload.clone();
        if (masked) {
            byte[] key = new byte[4];
            ThreadLocalRandom.current().nextBytes(key);
            f.writeBytes(key);
            for (int i = 0; i < body.length; i++) {
                body[i] ^= key[i & 3];
            }
        }
        f.writeBytes(body);
        return f.toByteArray();
    }

    public void sendBinary(byte[] payload) throws IOException {
        sendFrame(0x80 | OP_BINARY, payload, true);
    }

    public void sendText(String text) throws IOException {
        sendFrame(0x80 | OP_TEXT, text.getBytes(StandardCharsets.UTF_8), true);
    }

    /** Writes raw bytes (a frame cut in pieces, say). */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    // ---- frames in

    public Frame readFrame() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        long length = b1 & 0x7f;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        boolean masked = (b1 & 0x80) != 0;
        byte[] key = new byte[4];
        if (masked) {
            in.readFully(key);
        }
        byte[] payload = new byte[Math.toIntExact(length)];
        in.readFully(payload);
        if (masked) {
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= key[i & 3];
            }
        }
        return new Frame(b0 & 0x0f, (b0 & 0x80) != 0, (b0 >>> 4) & 7, masked, payload);
    }

    /** Reads frames until a close frame, answering pings; returns it. */
    public Frame readClose() throws IOException {
        while (true) {
            Frame f = readFrame();
            if (f.opcode() == OP_CLOSE) {
                close = f;
                return f;
            }
        }
    }

    /** The close frame that ended {@link #payloadStream()}, or null while none came. */
    public Frame closeFrame() {
        return close;
    }

    /** Pongs the server sent, counted by {@link #payloadStream()}. */
    public int pongs() {
        return pongs;
    }

    /**
     * The bytes of the server's data frames as one stream: ends (-1) at its close frame (kept in
     * {@link #closeFrame()}) or when the connection ends; control frames in between are handled here.
     */
    public InputStream payloadStream() {
        return new InputStream() {
            private byte[] current = new byte[0];
            private int at;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                while (at == current.length) {
                    if (close != null) {
                        return -1;
                    }
                    Frame f;
                    try {
                        f = readFrame();
                    } catch (EOFException e) {
                        return -1;
                    }
                    switch (f.opcode()) {
                        case OP_CLOSE -> close = f;
                        case OP_PING -> sendFrame(0x80 | OP_PONG, f.payload(), true);
                        case OP_PONG -> pongs++;
                        default -> {
                            current = f.payload();
                            at = 0;
                        }
                    }
                }
                int n = Math.min(len, current.length - at);
                System.arraycopy(current, at, b, off, n);
                at += n;
                return n;
            }
        };
    }

    /** Each write (of a whole frame, as the test clients write) leaves as one masked binary message. */
    public OutputStream messageStream() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                sendBinary(new byte[] {(byte) b});
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                sendBinary(java.util.Arrays.copyOfRange(b, off, off + len));
            }
        };
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test socket
        }
    }
}
