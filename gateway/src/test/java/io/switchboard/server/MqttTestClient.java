package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A blocking MQTT 3.1.1/5 client for tests, its packets encoded and parsed by hand (independently of the gateway's
 * codec): CONNECT, SUBSCRIBE, UNSUBSCRIBE, PUBLISH, PUBACK, PUBREL, PINGREQ, DISCONNECT out; any packet in.
 */
public final class MqttTestClient implements AutoCloseable {
    public static final int CONNACK = 2;
    public static final int PUBLISH = 3;
    public static final int PUBACK = 4;
    public static final int PUBREC = 5;
    public static final int PUBCOMP = 7;
    public static final int SUBACK = 9;
    public static final int UNSUBACK = 11;
    public static final int PINGRESP = 13;
    public static final int DISCONNECT = 14;

    /** One packet as read: its type, the fixed header's flags and the rest. */
    public record Packet(int type, int flags, byte[] body) {
    }

    /** A PUBLISH as read. */
    public record Pub(String topic, int qos, boolean dup, int packetId, byte[] payload, boolean retain) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final int version;

    private MqttTestClient(Socket socket, int version) throws IOException {
        this(socket, socket.getInputStream(), socket.getOutputStream(), version);
    }

    private MqttTestClient(Socket socket, java.io.InputStream in, OutputStream out, int version) throws IOException {
        this.socket = socket;
        this.version = version;
        socket.setSoTimeout(SwbTestClient.READ_TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(in);
        this.out = out;
    }

    /** MQTT {@code version} over an upgraded WebSocket ({@code /mqtt}). */
    public static MqttTestClient over(WsTestClient ws, int version) throws IOException {
        return new MqttTestClient(ws.socket(), ws.payloadStream(), ws.messageStream(), version);
    }

    /** Opens a connection that will speak MQTT {@code version} (4 = 3.1.1, 5). */
    public static MqttTestClient open(int port, int version) throws IOException {
        return new MqttTestClient(new Socket("127.0.0.1", port), version);
    }

    /** As {@link #open(int, int)}, with a socket receive buffer of {@code receiveBufferBytes}: a slow reader. */
    public static MqttTestClient open(int port, int version, int receiveBufferBytes) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(receiveBufferBytes);
        s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        return new MqttTestClient(s, version);
    }

    // ---- out

    /** Sends CONNECT. {@code receiveMaximum} 0 sends none (v5). */
    public void sendConnect(String clientId, boolean cleanStart, int keepAliveSec, String username, String password,
                            int receiveMaximum) throws IOException {
        sendConnect(clientId, cleanStart, keepAliveSec, username, password, receiveMaximum, -1);
    }

    /** As above, with a v5 Session Expiry Interval when {@code sessionExpirySec >= 0}. */
    public void sendConnect(String clientId, boolean cleanStart, int keepAliveSec, String username, String password,
                            int receiveMaximum, long sessionExpirySec) throws IOException {
        sendConnect(clientId, cleanStart, keepAliveSec, username, password, receiveMaximum, sessionExpirySec, 0);
    }

    /** As above, with a v5 Maximum Packet Size when {@code maximumPacketSize > 0}. */
    public void sendConnect(String clientId, boolean cleanStart, int keepAliveSec, String username, String password,
                            int receiveMaximum, long sessionExpirySec, int maximumPacketSize) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        string(b, "MQTT");
        b.write(version);
        int flags = (cleanStart ? 0x02 : 0) | (username != null ? 0x80 : 0) | (password != null ? 0x40 : 0);
        b.write(flags);
        b.write(keepAliveSec >> 8);
        b.write(keepAliveSec);
        if (version == 5) {
            ByteArrayOutputStream props = new ByteArrayOutputStream();
            if (sessionExpirySec >= 0) {
                props.write(0x11);
                props.write((int) (sessionExpirySec >>> 24));
                props.write((int) (sessionExpirySec >>> 16));
                props.write((int) (sessionExpirySec >>> 8));
                props.write((int) sessionExpirySec);
            }
            if (receiveMaximum > 0) {
                props.write(0x21);
                props.write(receiveMaximum >> 8);
                props.write(receiveMaximum);
            }
            if (maximumPacketSize > 0) {
                props.write(0x27);
                props.write(maximumPacketSize >>> 24);
                props.write(maximumPacketSize >>> 16);
                props.write(maximumPacketSize >>> 8);
                props.write(maximumPacketSize);
            }
            varint(b, props.size());
            b.writeBytes(props.toByteArray());
        }
        string(b, clientId);
        if (username != null) {
            string(b, username);
        }
        if (password != null) {
            string(b, password);
        }
        send(0x10, b);
    }

    /**
     * CONNECT (clean start, keep-alive 60) with a will on {@code willTopic}: retained when asked, and in v5 with a
     * Will Delay Interval when {@code willDelaySec > 0}; then the CONNACK's reason code.
     */
    public int connectWithWill(String clientId, String willTopic, String willPayload, boolean willRetain,
                               int willDelaySec) throws IOException {
        return connectWithWill(clientId, willTopic, willPayload, willRetain, willDelaySec, true, 0);
    }

    /** As above, with Clean Start and (v5, when above 0) a Session Expiry Interval. */
    public int connectWithWill(String clientId, String willTopic, String willPayload, boolean willRetain,
                               int willDelaySec, boolean cleanStart, int sessionExpirySec) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        string(b, "MQTT");
        b.write(version);
        b.write((cleanStart ? 0x02 : 0) | 0x04 | (willRetain ? 0x20 : 0));
        b.write(0);
        b.write(60);
        if (version == 5) {
            intPropertyOrNone(b, 0x11, sessionExpirySec); // CONNECT properties: Session Expiry Interval
        }
        string(b, clientId);
        if (version == 5) {
            intPropertyOrNone(b, 0x18, willDelaySec); // will properties: Will Delay Interval
        }
        string(b, willTopic);
        string(b, willPayload);
        send(0x10, b);
        return connack().body()[1] & 0xFF;
    }

    /** A v5 property block holding one four-byte integer property when {@code value > 0}, else an empty one. */
    private static void intPropertyOrNone(ByteArrayOutputStream b, int property, int value) {
        if (value <= 0) {
            b.write(0);
            return;
        }
        b.write(5);
        b.write(property);
        b.write(value >>> 24);
        b.write(value >>> 16);
        b.write(value >>> 8);
        b.write(value);
    }

    /** CONNECT and CONNACK; returns the CONNACK's reason (return) code. */
    public int connect(String clientId, boolean cleanStart) throws IOException {
        sendConnect(clientId, cleanStart, 60, null, null, 0);
        return connack().body()[1] & 0xFF;
    }

    public Packet connack() throws IOException {
        return expect(CONNACK);
    }

    /** Whether a CONNACK says a session was present. */
    public static boolean sessionPresent(Packet connack) {
        return (connack.body()[0] & 1) != 0;
    }

    /** A packet id and, in v5, an empty property list: how SUBSCRIBE and UNSUBSCRIBE start. */
    private ByteArrayOutputStream idAndNoProperties(int packetId) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(packetId >> 8);
        b.write(packetId);
        if (version == 5) {
            b.write(0);
        }
        return b;
    }

    public void subscribe(int packetId, String filter, int qos) throws IOException {
        subscribe(packetId, qos, filter);
    }

    /** One SUBSCRIBE naming every filter in {@code filters}, each with options {@code qos}. */
    public void subscribe(int packetId, int qos, String... filters) throws IOException {
        ByteArrayOutputStream b = idAndNoProperties(packetId);
        for (String filter : filters) {
            string(b, filter);
            b.write(qos);
        }
        send(0x82, b);
    }

    /** SUBSCRIBE and SUBACK; returns the granted QoS or failure code. */
    public int subscribeAndWait(int packetId, String filter, int qos) throws IOException {
        subscribe(packetId, filter, qos);
        Packet ack = expect(SUBACK);
        int at = 2 + (version == 5 ? 1 + (ack.body()[2] & 0xFF) : 0);
        return ack.body()[at] & 0xFF;
    }

    public void unsubscribe(int packetId, String filter) throws IOException {
        ByteArrayOutputStream b = idAndNoProperties(packetId);
        string(b, filter);
        send(0xA2, b);
    }

    public void publish(String topic, String payload, int qos, int packetId) throws IOException {
        publish(topic, payload, qos, packetId, false);
    }

    /** A PUBLISH with the retain flag set. */
    public void publishRetained(String topic, String payload, int qos, int packetId) throws IOException {
        publish(topic, payload, qos, packetId, false, true);
    }

    public void publish(String topic, String payload, int qos, int packetId, boolean dup) throws IOException {
        publish(topic, payload, qos, packetId, dup, false);
    }

    public void publish(String topic, String payload, int qos, int packetId, boolean dup, boolean retain)
            throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        string(b, topic);
        if (qos > 0) {
            b.write(packetId >> 8);
            b.write(packetId);
        }
        if (version == 5) {
            b.write(0);
        }
        b.writeBytes(payload.getBytes(StandardCharsets.UTF_8));
        send(0x30 | (dup ? 0x08 : 0) | qos << 1 | (retain ? 1 : 0), b);
    }

    /** A v5 PUBLISH with {@code properties}, as the codec encodes one. */
    public void publish(String topic, String payload, int qos, int packetId, boolean retain,
                        io.switchboard.mqtt.PublishProperties properties) throws IOException {
        io.netty.buffer.ByteBuf b = io.switchboard.mqtt.MqttEncoder.publish(
                io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, version, topic, payload.getBytes(StandardCharsets.UTF_8), qos, retain, false, packetId, properties);
        try {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            sendRaw(bytes);
        } finally {
            b.release();
        }
    }

    /** The v5 properties of {@code p}, a PUBLISH already read, as the codec decodes them. */
    public io.switchboard.mqtt.PublishProperties propertiesOf(Packet p) throws IOException {
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        whole.write(PUBLISH << 4 | p.flags());
        varint(whole, p.body().length);
        whole.writeBytes(p.body());
        io.netty.buffer.ByteBuf b = io.netty.buffer.Unpooled.wrappedBuffer(whole.toByteArray());
        try {
            return ((io.switchboard.mqtt.Publish) io.switchboard.mqtt.MqttDecoder.decode(b, b.readableBytes(), version))
                    .properties();
        } catch (io.switchboard.mqtt.MqttMalformed e) {
            throw new IOException("a PUBLISH the codec does not take: " + e.getMessage(), e);
        }
    }

    public void puback(int packetId) throws IOException {
        idOnly(0x40, packetId);
    }

    public void pubrel(int packetId) throws IOException {
        idOnly(0x62, packetId);
    }

    public void pingreq() throws IOException {
        out.write(new byte[] {(byte) 0xC0, 0});
        out.flush();
    }

    public void disconnect() throws IOException {
        out.write(new byte[] {(byte) 0xE0, 0});
        out.flush();
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    private void idOnly(int header, int packetId) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(packetId >> 8);
        b.write(packetId);
        send(header, b);
    }

    private void send(int header, ByteArrayOutputStream body) throws IOException {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(header);
        varint(p, body.size());
        p.writeBytes(body.toByteArray());
        out.write(p.toByteArray());
        out.flush();
    }

    private static void string(ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.write(bytes.length >> 8);
        b.write(bytes.length);
        b.writeBytes(bytes);
    }

    private static void varint(ByteArrayOutputStream b, int n) {
        do {
            int digit = n % 128;
            n /= 128;
            b.write(n > 0 ? digit | 0x80 : digit);
        } while (n > 0);
    }

    // ---- in

    public Packet read() throws IOException {
        int header = in.readUnsignedByte();
        int length = 0;
        int shift = 0;
        int digit;
        do {
            digit = in.readUnsignedByte();
            length |= (digit & 0x7F) << shift;
            shift += 7;
        } while ((digit & 0x80) != 0);
        byte[] body = new byte[length];
        in.readFully(body);
        return new Packet(header >> 4, header & 0x0F, body);
    }

    public Packet expect(int type) throws IOException {
        Packet p = read();
        assertEquals(type, p.type(), "packet type");
        return p;
    }

    /** The variable byte integer at {@code pos[0]} of {@code b}; {@code pos[0]} moves past it. */
    static int varint(byte[] b, int[] pos) {
        int value = 0;
        int shift = 0;
        int digit;
        do {
            digit = b[pos[0]++] & 0xFF;
            value |= (digit & 0x7F) << shift;
            shift += 7;
        } while ((digit & 0x80) != 0);
        return value;
    }

    public Pub readPublish() throws IOException {
        return publishOf(expect(PUBLISH));
    }

    /** {@code p}, a PUBLISH already read, taken apart. */
    public Pub publishOf(Packet p) {
        byte[] b = p.body();
        int topicLength = (b[0] & 0xFF) << 8 | (b[1] & 0xFF);
        String topic = new String(b, 2, topicLength, StandardCharsets.UTF_8);
        int at = 2 + topicLength;
        int qos = (p.flags() >> 1) & 3;
        int packetId = 0;
        if (qos > 0) {
            packetId = (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
            at += 2;
        }
        if (version == 5) {
            int[] pos = {at};
            int propsLength = varint(b, pos);
            at = pos[0] + propsLength;
        }
        byte[] payload = java.util.Arrays.copyOfRange(b, at, b.length);
        return new Pub(topic, qos, (p.flags() & 0x08) != 0, packetId, payload, (p.flags() & 1) != 0);
    }

    /** The reason code of a v5 DISCONNECT from the server. */
    public int readDisconnect() throws IOException {
        Packet p = expect(DISCONNECT);
        return p.body().length == 0 ? 0 : p.body()[0] & 0xFF;
    }

    /** How long a read waits for a packet before it throws {@link SocketTimeoutException}. */
    public void readTimeout(int ms) throws IOException {
        socket.setSoTimeout(ms);
    }

    /** Expects nothing more within {@code ms}. */
    public void expectSilence(int ms) throws IOException {
        socket.setSoTimeout(ms);
        try {
            Packet p = read();
            throw new AssertionError("expected nothing, got packet type " + p.type());
        } catch (SocketTimeoutException expected) {
            // nothing arrived
        } finally {
            socket.setSoTimeout(SwbTestClient.READ_TIMEOUT_MS);
        }
    }

    /** Expects the server to close the connection. */
    public void expectEof() throws IOException {
        try {
            Packet p = read();
            throw new AssertionError("expected the connection to close, got packet type " + p.type());
        } catch (EOFException | java.net.SocketException expected) {
            close();
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
