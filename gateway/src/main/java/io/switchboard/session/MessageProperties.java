package io.switchboard.session;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;

/**
 * What a publisher attached to a topic message besides its payload, passed on unaltered to the protocols that carry
 * it (MQTT 5's PUBLISH properties: the core neither reads nor checks them, beyond the expiry). Immutable.
 *
 * @param user            name/value pairs (name, value, name, value ...) in the publisher's order; empty when none
 * @param contentType     null when absent
 * @param responseTopic   null when absent
 * @param correlationData null when absent (at most 65,535 bytes)
 * @param payloadFormat   0 or 1, {@link #NO_FORMAT} when absent
 * @param expiresAtMs     epoch ms after which the message is no longer delivered (a retained one is dropped);
 *                        0 when it does not expire
 */
public record MessageProperties(List<String> user, String contentType, String responseTopic, byte[] correlationData,
                                int payloadFormat, long expiresAtMs) {
    public static final int NO_FORMAT = -1;

    /** Only name/value pairs; null when there are none. */
    public static MessageProperties ofUser(List<String> user) {
        return user == null || user.isEmpty() ? null
                : new MessageProperties(List.copyOf(user), null, null, null, NO_FORMAT, 0);
    }

    /** Whether it expired at {@code nowMs}. */
    public boolean expired(long nowMs) {
        return expiresAtMs != 0 && nowMs >= expiresAtMs;
    }

    /** About what it holds, in bytes (characters count one): for the bounds of what is kept. */
    public long bytes() {
        long n = 16 + (contentType == null ? 0 : contentType.length())
                + (responseTopic == null ? 0 : responseTopic.length())
                + (correlationData == null ? 0 : correlationData.length);
        for (String s : user) {
            n += s.length();
        }
        return n;
    }

    /** Writes {@code p} (null: none) as {@link #read} reads it: between cluster nodes, and into Redis. */
    public static void write(MessageProperties p, DataOutput out) throws IOException {
        if (p == null) {
            out.writeByte(0);
            return;
        }
        out.writeByte(1);
        out.writeInt(p.user.size());
        for (String s : p.user) {
            writeString(s, out);
        }
        writeNullable(p.contentType, out);
        writeNullable(p.responseTopic, out);
        out.writeInt(p.correlationData == null ? -1 : p.correlationData.length);
        if (p.correlationData != null) {
            out.write(p.correlationData);
        }
        out.writeByte(p.payloadFormat);
        out.writeLong(p.expiresAtMs);
    }

    /** What {@link #write} wrote; at most {@code limit} bytes in all (counts beyond it are an {@link IOException}). */
    public static MessageProperties read(DataInput in, int limit) throws IOException {
        int present = in.readByte();
        if (present == 0) {
            return null;
        }
        if (present != 1) {
            throw new IOException("bad properties mark " + present);
        }
        int count = in.readInt();
        if (count < 0 || count > limit) {
            throw new IOException("bad property count " + count);
        }
        List<String> user = new java.util.ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            user.add(readString(in, limit));
        }
        String contentType = readNullable(in, limit);
        String responseTopic = readNullable(in, limit);
        int n = in.readInt();
        if (n < -1 || n > Math.min(limit, 0xFFFF)) {
            throw new IOException("bad correlation data length " + n);
        }
        byte[] correlation = null;
        if (n >= 0) {
            correlation = new byte[n];
            in.readFully(correlation);
        }
        int format = in.readByte();
        if (format < NO_FORMAT || format > 1) {
            throw new IOException("bad payload format " + format);
        }
        return new MessageProperties(List.copyOf(user), contentType, responseTopic, correlation, format,
                in.readLong());
    }

    // Strings as UTF-8 with a length (writeUTF's modified UTF-8 can exceed its 64 KiB with characters outside
    // the BMP, which an MQTT string of 65,535 bytes may hold).
    private static void writeString(String s, DataOutput out) throws IOException {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInput in, int limit) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > limit) {
            throw new IOException("bad string length " + n);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void writeNullable(String s, DataOutput out) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            writeString(s, out);
        }
    }

    private static String readNullable(DataInput in, int limit) throws IOException {
        return in.readBoolean() ? readString(in, limit) : null;
    }
}
