package io.switchboard.mqtt;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random valid client packets of each type for a protocol level, with the v5 fields at their "absent" values
 * before v5 (which is what the decoder gives for 3.1.1). Strings mix ASCII, two-, three- and four-byte UTF-8.
 */
final class RandomPackets {
    private static final String[] CHARS = {"a", "b", "Z", "0", "-", "_", ".", " ", "$", "ü", "€", "中", "😀", "\u0001",
        "~"};
    private static final int[] PUBACK_REASONS = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
    private static final int[] PUBREL_REASONS = {0x00, 0x92};
    private static final int[] CLIENT_DISCONNECT_REASONS = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95,
        0x96, 0x97, 0x98, 0x99};
    private static final int[] AUTH_REASONS = {0x00, 0x18, 0x19};

    private final Random r;

    RandomPackets(Random r) {
        this.r = r;
    }

    /** A packet of each type the level has (AUTH only in v5; CONNECT, whose level is its own, included). */
    List<MqttPacket> oneOfEach(int version) {
        List<MqttPacket> all = new ArrayList<>(List.of(connect(version), publish(version),
                new PubAck(packetId(), reason(version, PUBACK_REASONS)),
                new PubRec(packetId(), reason(version, PUBACK_REASONS)),
                new PubRel(packetId(), reason(version, PUBREL_REASONS)),
                new PubComp(packetId(), reason(version, PUBREL_REASONS)), subscribe(version), unsubscribe(version),
                PingReq.INSTANCE, disconnect(version)));
        if (version == MqttVersion.V5) {
            all.add(auth());
        }
        return all;
    }

    Connect connect(int version) {
        boolean v5 = version == MqttVersion.V5;
        String username = r.nextBoolean() ? string(10) : null;
        byte[] password = (v5 || username != null) && r.nextBoolean() ? bytes(20) : null;
        Will will = null;
        if (r.nextBoolean()) {
            will = new Will(topic(), bytes(30), r.nextInt(3), r.nextBoolean(), v5 && r.nextBoolean() ? u32() : 0,
                    userProperties(v5));
        }
        if (!v5) {
            return new Connect(version, string(23), r.nextBoolean(), r.nextInt(65_536), username, password, will, 0,
                    65_535, 0, 0, true, List.of(), null);
        }
        return new Connect(version, string(23), r.nextBoolean(), r.nextInt(65_536), username, password, will,
                r.nextBoolean() ? 0 : u32(), 1 + r.nextInt(65_535), r.nextBoolean() ? 0 : 1 + r.nextLong(0xFFFF_FFFFL),
                r.nextInt(65_536), r.nextBoolean(), userProperties(true), r.nextBoolean() ? string(8) : null);
    }

    Publish publish(int version) {
        int qos = r.nextInt(3);
        int packetId = qos > 0 ? packetId() : 0;
        boolean dup = qos > 0 && r.nextBoolean();
        byte[] payload = r.nextInt(4) == 0 ? new byte[0] : bytes(60);
        if (version != MqttVersion.V5) {
            return new Publish(topic(), payload, qos, r.nextBoolean(), dup, packetId, 0, -1, List.of(), null, null,
                    null, null);
        }
        int alias = r.nextBoolean() ? 0 : 1 + r.nextInt(65_535);
        String topic = alias > 0 && r.nextBoolean() ? "" : topic();
        return new Publish(topic, payload, qos, r.nextBoolean(), dup, packetId, alias, r.nextBoolean() ? -1 : u32(),
                userProperties(true), r.nextBoolean() ? string(12) : null, r.nextBoolean() ? topic() : null,
                r.nextBoolean() ? bytes(16) : null, r.nextBoolean() ? null : r.nextInt(2));
    }

    Subscribe subscribe(int version) {
        boolean v5 = version == MqttVersion.V5;
        List<Subscription> subs = new ArrayList<>();
        for (int i = 1 + r.nextInt(4); i > 0; i--) {
            String filter = r.nextInt(8) == 0 ? "$share/g/" + filter() : filter();
            subs.add(v5 ? new Subscription(filter, r.nextInt(3), !filter.startsWith("$share/") && r.nextBoolean(),
                    r.nextBoolean(), r.nextInt(3)) : new Subscription(filter, r.nextInt(3), false, false, 0));
        }
        return new Subscribe(packetId(), subs, v5 && r.nextBoolean() ? 1 + r.nextInt(268_435_455) : 0,
                userProperties(v5));
    }

    Unsubscribe unsubscribe(int version) {
        List<String> filters = new ArrayList<>();
        for (int i = 1 + r.nextInt(4); i > 0; i--) {
            filters.add(filter());
        }
        return new Unsubscribe(packetId(), filters, userProperties(version == MqttVersion.V5));
    }

    Disconnect disconnect(int version) {
        if (version != MqttVersion.V5) {
            return Disconnect.NORMAL;
        }
        return new Disconnect(CLIENT_DISCONNECT_REASONS[r.nextInt(CLIENT_DISCONNECT_REASONS.length)],
                r.nextBoolean() ? -1 : u32(), r.nextBoolean() ? string(20) : null);
    }

    Auth auth() {
        if (r.nextInt(4) == 0) {
            return new Auth(0, null, null);
        }
        return new Auth(AUTH_REASONS[r.nextInt(AUTH_REASONS.length)], string(10), r.nextBoolean() ? bytes(20) : null);
    }

    /** A valid topic name: 1 to 4 levels, possibly empty ones, not empty as a whole. */
    String topic() {
        StringBuilder sb = new StringBuilder();
        for (int i = r.nextInt(4); i >= 0; i--) {
            sb.append(string(5));
            if (i > 0) {
                sb.append('/');
            }
        }
        return sb.isEmpty() ? "t" : sb.toString();
    }

    /** A valid filter: levels of text or {@code +}, and perhaps {@code #} at the end. */
    String filter() {
        StringBuilder sb = new StringBuilder();
        int levels = 1 + r.nextInt(4);
        for (int i = 0; i < levels; i++) {
            if (i > 0) {
                sb.append('/');
            }
            if (i == levels - 1 && r.nextInt(5) == 0) {
                sb.append('#');
            } else if (r.nextInt(4) == 0) {
                sb.append('+');
            } else {
                sb.append(string(5));
            }
        }
        return sb.isEmpty() ? "f" : sb.toString();
    }

    String string(int maxChars) {
        StringBuilder sb = new StringBuilder();
        for (int i = r.nextInt(maxChars + 1); i > 0; i--) {
            sb.append(CHARS[r.nextInt(CHARS.length)]);
        }
        return sb.toString();
    }

    byte[] bytes(int max) {
        byte[] b = new byte[r.nextInt(max + 1)];
        r.nextBytes(b);
        return b;
    }

    List<UserProperty> userProperties(boolean v5) {
        if (!v5 || r.nextBoolean()) {
            return List.of();
        }
        List<UserProperty> list = new ArrayList<>();
        for (int i = 1 + r.nextInt(3); i > 0; i--) {
            list.add(new UserProperty(string(6), string(6)));
        }
        return list;
    }

    private int packetId() {
        return 1 + r.nextInt(65_535);
    }

    private long u32() {
        return r.nextLong(0x1_0000_0000L);
    }

    private int reason(int version, int[] codes) {
        return version == MqttVersion.V5 ? codes[r.nextInt(codes.length)] : 0;
    }
}
