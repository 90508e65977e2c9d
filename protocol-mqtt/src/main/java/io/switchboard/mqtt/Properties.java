package io.switchboard.mqtt;

import static io.switchboard.mqtt.MqttReasonCodes.MALFORMED_PACKET;
import static io.switchboard.mqtt.MqttReasonCodes.PROTOCOL_ERROR;

import java.util.ArrayList;
import java.util.List;

/**
 * The MQTT 5 properties of one packet, read and checked as MQTT 5 section 2.2.2 says: an identifier that is unknown
 * or not allowed in this packet makes it malformed; one given twice (but user properties, which may repeat) is a
 * protocol error, and so are the values the specification forbids (a boolean other than 0 or 1, a receive maximum,
 * maximum packet size or subscription identifier of 0). Kept by identifier; the arrays are only allocated for a
 * packet that has properties of their kind. For one packet.
 */
final class Properties {
    static final int PAYLOAD_FORMAT = 0x01;
    static final int MESSAGE_EXPIRY = 0x02;
    static final int CONTENT_TYPE = 0x03;
    static final int RESPONSE_TOPIC = 0x08;
    static final int CORRELATION_DATA = 0x09;
    static final int SUBSCRIPTION_ID = 0x0B;
    static final int SESSION_EXPIRY = 0x11;
    static final int ASSIGNED_CLIENT_ID = 0x12;
    static final int SERVER_KEEP_ALIVE = 0x13;
    static final int AUTH_METHOD = 0x15;
    static final int AUTH_DATA = 0x16;
    static final int REQUEST_PROBLEM_INFO = 0x17;
    static final int WILL_DELAY = 0x18;
    static final int REQUEST_RESPONSE_INFO = 0x19;
    static final int RESPONSE_INFO = 0x1A;
    static final int SERVER_REFERENCE = 0x1C;
    static final int REASON_STRING = 0x1F;
    static final int RECEIVE_MAXIMUM = 0x21;
    static final int TOPIC_ALIAS_MAXIMUM = 0x22;
    static final int TOPIC_ALIAS = 0x23;
    static final int MAXIMUM_QOS = 0x24;
    static final int RETAIN_AVAILABLE = 0x25;
    static final int USER_PROPERTY = 0x26;
    static final int MAXIMUM_PACKET_SIZE = 0x27;
    static final int WILDCARD_AVAILABLE = 0x28;
    static final int SUB_IDS_AVAILABLE = 0x29;
    static final int SHARED_AVAILABLE = 0x2A;
    private static final int IDS = 0x2B;

    // The value types of MQTT 5 section 2.2.2.2.
    private static final byte UNKNOWN = 0;
    private static final byte BYTE = 1;
    private static final byte TWO_BYTES = 2;
    private static final byte FOUR_BYTES = 4;
    private static final byte VARINT = 5;
    private static final byte STRING = 6;
    private static final byte BINARY = 7;
    private static final byte PAIR = 8;
    private static final byte[] KIND = new byte[IDS];

    static {
        for (int id : new int[] {PAYLOAD_FORMAT, REQUEST_PROBLEM_INFO, REQUEST_RESPONSE_INFO, MAXIMUM_QOS,
            RETAIN_AVAILABLE, WILDCARD_AVAILABLE, SUB_IDS_AVAILABLE, SHARED_AVAILABLE}) {
            KIND[id] = BYTE;
        }
        for (int id : new int[] {SERVER_KEEP_ALIVE, RECEIVE_MAXIMUM, TOPIC_ALIAS_MAXIMUM, TOPIC_ALIAS}) {
            KIND[id] = TWO_BYTES;
        }
        for (int id : new int[] {MESSAGE_EXPIRY, SESSION_EXPIRY, WILL_DELAY, MAXIMUM_PACKET_SIZE}) {
            KIND[id] = FOUR_BYTES;
        }
        KIND[SUBSCRIPTION_ID] = VARINT;
        for (int id : new int[] {CONTENT_TYPE, RESPONSE_TOPIC, ASSIGNED_CLIENT_ID, AUTH_METHOD, RESPONSE_INFO,
            SERVER_REFERENCE, REASON_STRING}) {
            KIND[id] = STRING;
        }
        KIND[CORRELATION_DATA] = BINARY;
        KIND[AUTH_DATA] = BINARY;
        KIND[USER_PROPERTY] = PAIR;
    }

    /** Where each property may appear in a packet from a client, as a set of identifiers. */
    static final long CONNECT = set(SESSION_EXPIRY, RECEIVE_MAXIMUM, MAXIMUM_PACKET_SIZE, TOPIC_ALIAS_MAXIMUM,
            REQUEST_RESPONSE_INFO, REQUEST_PROBLEM_INFO, USER_PROPERTY, AUTH_METHOD, AUTH_DATA);
    static final long WILL = set(WILL_DELAY, PAYLOAD_FORMAT, MESSAGE_EXPIRY, CONTENT_TYPE, RESPONSE_TOPIC,
            CORRELATION_DATA, USER_PROPERTY);
    static final long PUBLISH = set(PAYLOAD_FORMAT, MESSAGE_EXPIRY, TOPIC_ALIAS, RESPONSE_TOPIC, CORRELATION_DATA,
            USER_PROPERTY, CONTENT_TYPE);
    static final long ACK = set(REASON_STRING, USER_PROPERTY);
    static final long SUBSCRIBE = set(SUBSCRIPTION_ID, USER_PROPERTY);
    static final long UNSUBSCRIBE = set(USER_PROPERTY);
    static final long DISCONNECT = set(SESSION_EXPIRY, REASON_STRING, USER_PROPERTY, SERVER_REFERENCE);
    static final long AUTH = set(AUTH_METHOD, AUTH_DATA, REASON_STRING, USER_PROPERTY);

    /** A packet without properties (or a 3.1.1 packet). */
    static final Properties NONE = new Properties();

    private long seen;
    private long[] numbers;
    private Object[] values;
    private List<UserProperty> user = List.of();

    private static long set(int... ids) {
        long s = 0;
        for (int id : ids) {
            s |= 1L << id;
        }
        return s;
    }

    /** Reads the property length and the properties it covers, allowing only the identifiers in {@code allowed}. */
    static Properties read(FieldReader r, long allowed, String packet) throws MqttMalformed {
        int length = r.varint(packet + " property length");
        if (length > r.remaining()) {
            throw new MqttMalformed(MALFORMED_PACKET, packet + " properties run past the end of the packet");
        }
        if (length == 0) {
            return NONE;
        }
        Properties p = new Properties();
        int endRemaining = r.remaining() - length;
        while (r.remaining() > endRemaining) {
            int id = r.varint(packet + " property identifier");
            String what = packet + " property 0x" + Integer.toHexString(id);
            if (id >= IDS || (allowed & (1L << id)) == 0) {
                throw new MqttMalformed(MALFORMED_PACKET, what + (id < IDS && KIND[id] != UNKNOWN
                        ? " is not allowed there" : " is unknown"));
            }
            if (id != USER_PROPERTY && (p.seen & (1L << id)) != 0) {
                throw new MqttMalformed(PROTOCOL_ERROR, what + " is given twice");
            }
            p.seen |= 1L << id;
            switch (KIND[id]) {
                case BYTE -> p.putNumber(id, r.u8(what));
                case TWO_BYTES -> p.putNumber(id, r.u16(what));
                case FOUR_BYTES -> p.putNumber(id, r.u32(what));
                case VARINT -> p.putNumber(id, r.varint(what));
                case STRING -> p.putValue(id, r.utf8(what));
                case BINARY -> p.putValue(id, r.binary(what));
                default -> {
                    if (p.user.isEmpty()) {
                        p.user = new ArrayList<>(2);
                    }
                    p.user.add(new UserProperty(r.utf8(what), r.utf8(what)));
                }
            }
            check(id, p, what);
        }
        if (r.remaining() != endRemaining) {
            throw new MqttMalformed(MALFORMED_PACKET, packet + " properties overrun their length");
        }
        if (!p.user.isEmpty()) {
            p.user = List.copyOf(p.user);
        }
        return p;
    }

    /** The values MQTT 5 forbids for a property, wherever it appears. */
    private static void check(int id, Properties p, String what) throws MqttMalformed {
        switch (id) {
            case PAYLOAD_FORMAT, REQUEST_PROBLEM_INFO, REQUEST_RESPONSE_INFO -> {
                if (p.numbers[id] > 1) {
                    throw new MqttMalformed(PROTOCOL_ERROR, what + " is " + p.numbers[id] + ", not 0 or 1");
                }
            }
            case RECEIVE_MAXIMUM, MAXIMUM_PACKET_SIZE, SUBSCRIPTION_ID -> {
                if (p.numbers[id] == 0) {
                    throw new MqttMalformed(PROTOCOL_ERROR, what + " is 0");
                }
            }
            case TOPIC_ALIAS -> {
                if (p.numbers[id] == 0) {
                    throw new MqttMalformed(MqttReasonCodes.TOPIC_ALIAS_INVALID, what + " (topic alias) is 0");
                }
            }
            case RESPONSE_TOPIC -> {
                if (!MqttTopics.validTopicName((String) p.values[id])) {
                    throw new MqttMalformed(PROTOCOL_ERROR, what + " (response topic) is empty or has wildcards");
                }
            }
            default -> {
            }
        }
    }

    private void putNumber(int id, long v) {
        if (numbers == null) {
            numbers = new long[IDS];
        }
        numbers[id] = v;
    }

    private void putValue(int id, Object v) {
        if (values == null) {
            values = new Object[IDS];
        }
        values[id] = v;
    }

    boolean has(int id) {
        return (seen & (1L << id)) != 0;
    }

    long number(int id, long absent) {
        return has(id) ? numbers[id] : absent;
    }

    String string(int id) {
        return has(id) ? (String) values[id] : null;
    }

    byte[] binary(int id) {
        return has(id) ? (byte[]) values[id] : null;
    }

    List<UserProperty> user() {
        return user;
    }
}
