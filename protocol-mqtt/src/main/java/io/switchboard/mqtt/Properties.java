package io.switchboard.mqtt;

import static io.switchboard.mqtt.MqttReasonCodes.MALFORMED_PACKET;
import static io.switchboard.mqtt.MqttReasonCodes.PROTOCOL_ERROR;

import java.util.ArrayList;
import java.util.List;

/**
 * The MQTT 5 properties of one packet: read and checked (a known identifier, allowed in this packet, at most once
 * except user properties and subscription identifiers), kept by identifier. For one packet.
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

    /** Where each property may appear (client packets only). */
    static final int[] CONNECT = {SESSION_EXPIRY, RECEIVE_MAXIMUM, MAXIMUM_PACKET_SIZE, TOPIC_ALIAS_MAXIMUM,
        REQUEST_RESPONSE_INFO, REQUEST_PROBLEM_INFO, USER_PROPERTY, AUTH_METHOD, AUTH_DATA};
    static final int[] WILL = {WILL_DELAY, PAYLOAD_FORMAT, MESSAGE_EXPIRY, CONTENT_TYPE, RESPONSE_TOPIC,
        CORRELATION_DATA, USER_PROPERTY};
    static final int[] PUBLISH = {PAYLOAD_FORMAT, MESSAGE_EXPIRY, TOPIC_ALIAS, RESPONSE_TOPIC, CORRELATION_DATA,
        USER_PROPERTY, CONTENT_TYPE};
    static final int[] ACK = {REASON_STRING, USER_PROPERTY};
    static final int[] SUBSCRIBE = {SUBSCRIPTION_ID, USER_PROPERTY};
    static final int[] UNSUBSCRIBE = {USER_PROPERTY};
    static final int[] DISCONNECT = {SESSION_EXPIRY, REASON_STRING, USER_PROPERTY, SERVER_REFERENCE};
    static final int[] AUTH = {AUTH_METHOD, AUTH_DATA, REASON_STRING, USER_PROPERTY};

    static final Properties NONE = new Properties();

    private final long[] numbers = new long[0x2B];
    private final Object[] values = new Object[0x2B];
    private final boolean[] present = new boolean[0x2B];
    private List<UserProperty> user = List.of();

    /** Reads the property length and the properties, allowing only {@code allowed}. */
    static Properties read(FieldReader r, int[] allowed, String packet) throws MqttMalformed {
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
            if (!allowedIn(id, allowed)) {
                throw new MqttMalformed(id < 0x2B && kind(id) != 0 ? PROTOCOL_ERROR : MALFORMED_PACKET,
                        "property 0x" + Integer.toHexString(id) + " is not allowed in " + packet);
            }
            if (id != USER_PROPERTY && p.present[id]) {
                throw new MqttMalformed(PROTOCOL_ERROR, "property 0x" + Integer.toHexString(id) + " twice in "
                        + packet);
            }
            p.present[id] = true;
            String what = packet + " property 0x" + Integer.toHexString(id);
            switch (kind(id)) {
                case 1 -> p.numbers[id] = r.u8(what);
                case 2 -> p.numbers[id] = r.u16(what);
                case 4 -> p.numbers[id] = r.u32(what);
                case 'v' -> p.numbers[id] = r.varint(what);
                case 's' -> p.values[id] = r.utf8(what);
                case 'b' -> p.values[id] = r.binary(what);
                default -> {
                    if (p.user.isEmpty()) {
                        p.user = new ArrayList<>(2);
                    }
                    p.user.add(new UserProperty(r.utf8(what), r.utf8(what)));
                }
            }
        }
        if (r.remaining() != endRemaining) {
            throw new MqttMalformed(MALFORMED_PACKET, packet + " properties overrun their length");
        }
        return p;
    }

    private static boolean allowedIn(int id, int[] allowed) {
        for (int a : allowed) {
            if (a == id) {
                return true;
            }
        }
        return false;
    }

    /** 1, 2, 4 bytes, 'v'arint, 's'tring, 'b'inary, 'p'air; 0 unknown. */
    static int kind(int id) {
        return switch (id) {
            case PAYLOAD_FORMAT, REQUEST_PROBLEM_INFO, REQUEST_RESPONSE_INFO, MAXIMUM_QOS, RETAIN_AVAILABLE,
                 WILDCARD_AVAILABLE, SUB_IDS_AVAILABLE, SHARED_AVAILABLE -> 1;
            case SERVER_KEEP_ALIVE, RECEIVE_MAXIMUM, TOPIC_ALIAS_MAXIMUM, TOPIC_ALIAS -> 2;
            case MESSAGE_EXPIRY, SESSION_EXPIRY, WILL_DELAY, MAXIMUM_PACKET_SIZE -> 4;
            case SUBSCRIPTION_ID -> 'v';
            case CONTENT_TYPE, RESPONSE_TOPIC, ASSIGNED_CLIENT_ID, AUTH_METHOD, RESPONSE_INFO, SERVER_REFERENCE,
                 REASON_STRING -> 's';
            case CORRELATION_DATA, AUTH_DATA -> 'b';
            case USER_PROPERTY -> 'p';
            default -> 0;
        };
    }

    boolean has(int id) {
        return present[id];
    }

    long number(int id, long absent) {
        return present[id] ? numbers[id] : absent;
    }

    String string(int id) {
        return (String) values[id];
    }

    byte[] binary(int id) {
        return (byte[]) values[id];
    }

    List<UserProperty> user() {
        return user;
    }
}
