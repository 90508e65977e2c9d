package io.switchboard.store.disk;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The on-disk format of the store's log: a segment file starts with {@link #MAGIC}, then records, each framed as
 *
 * <pre>
 *   int   length    bytes after the checksum (type and body)
 *   int   crc32c    of those bytes
 *   byte  type      1 message, 2 ack, 3 forget
 *   short idLength, id (UTF-8)
 *   message: long seq, long expiresAtMs, int payloadLength, payload
 *   ack:     long seq            (every message of the client up to seq was acknowledged)
 *   forget:  nothing             (the client's session ended; nothing before this record counts for it)
 * </pre>
 *
 * All big-endian. A reader stops at the first record whose length is impossible, whose bytes end early, or whose
 * checksum differs: everything before it is intact. Stateless.
 */
final class Records {
    static final byte MESSAGE = 1;
    static final byte ACK = 2;
    static final byte FORGET = 3;
    /** "SWBLOG" + format version 1 + newline: a file without it is not a segment of this store. */
    static final byte[] MAGIC = "SWBLOG1\n".getBytes(StandardCharsets.US_ASCII);
    /** Length and checksum. */
    static final int FRAME = 8;
    /** The longest record body a reader accepts: a 16 MiB payload (the largest --max-payload) plus its fields. */
    static final int MAX_BODY = 16 * 1024 * 1024 + 1024;

    private Records() {
    }

    static byte[] id(String clientId) {
        return clientId.getBytes(StandardCharsets.UTF_8);
    }

    /** Bytes a message record takes on disk, framing included. */
    static int messageBytes(int idBytes, int payloadBytes) {
        return FRAME + 1 + 2 + idBytes + 8 + 8 + 4 + payloadBytes;
    }

    static int ackBytes(int idBytes) {
        return FRAME + 1 + 2 + idBytes + 8;
    }

    static int forgetBytes(int idBytes) {
        return FRAME + 1 + 2 + idBytes;
    }

    /** Appends a message record to {@code out}, which has room for {@link #messageBytes}. */
    static void putMessage(ByteBuffer out, byte[] id, long seq, long expiresAtMs, byte[] payload) {
        int start = begin(out, MESSAGE, id);
        out.putLong(seq).putLong(expiresAtMs).putInt(payload.length).put(payload);
        end(out, start);
    }

    static void putAck(ByteBuffer out, byte[] id, long seq) {
        int start = begin(out, ACK, id);
        out.putLong(seq);
        end(out, start);
    }

    static void putForget(ByteBuffer out, byte[] id) {
        end(out, begin(out, FORGET, id));
    }

    private static int begin(ByteBuffer out, byte type, byte[] id) {
        int start = out.position();
        out.position(start + FRAME);
        out.put(type).putShort((short) id.length).put(id);
        return start;
    }

    /** Fills in the length and checksum of the record that starts at {@code start} and ends at the position. */
    private static void end(ByteBuffer out, int start) {
        int bodyStart = start + FRAME;
        int length = out.position() - bodyStart;
        out.putInt(start, length);
        out.putInt(start + 4, crc(out, bodyStart, length));
    }

    static int crc(ByteBuffer buf, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().limit(from + length).position(from));
        return (int) crc.getValue();
    }

    /** What a reader finds in one record. */
    interface Visitor {
        /** Visits nothing: for checking that a record decodes. */
        Visitor NONE = new Visitor() {
            @Override
            public void message(String clientId, long seq, long expiresAtMs, byte[] payload, int recordBytes) {
            }

            @Override
            public void ack(String clientId, long seq) {
            }

            @Override
            public void forget(String clientId) {
            }
        };

        /**
         * @param payload     null when {@link #wantsPayload} said no
         * @param recordBytes the record's bytes on disk, framing included
         */
        void message(String clientId, long seq, long expiresAtMs, byte[] payload, int recordBytes);

        /** Whether a message record expiring at {@code expiresAtMs} needs its payload read (not read: no copy). */
        default boolean wantsPayload(long expiresAtMs) {
            return true;
        }

        void ack(String clientId, long seq);

        void forget(String clientId);
    }

    /**
     * Decodes the body of one record ({@code length} bytes at the buffer's position, checksum already verified) and
     * hands it to {@code visitor}. Returns false, visiting nothing, when the fields do not fit the length.
     */
    static boolean decode(ByteBuffer body, int length, Visitor visitor) {
        int end = body.position() + length;
        if (length < 3) {
            return false;
        }
        byte type = body.get();
        int idLength = Short.toUnsignedInt(body.getShort());
        int fixed = switch (type) {
            case MESSAGE -> 20;
            case ACK -> 8;
            case FORGET -> 0;
            default -> -1;
        };
        if (fixed < 0 || 3 + idLength + fixed > length || (type != MESSAGE && 3 + idLength + fixed != length)) {
            return false;
        }
        byte[] idBytes = new byte[idLength];
        body.get(idBytes);
        String id = new String(idBytes, StandardCharsets.UTF_8);
        switch (type) {
            case MESSAGE -> {
                long seq = body.getLong();
                long expires = body.getLong();
                int payloadLength = body.getInt();
                if (payloadLength < 0 || body.position() + payloadLength != end) {
                    return false;
                }
                byte[] payload = null;
                if (visitor.wantsPayload(expires)) {
                    payload = new byte[payloadLength];
                    body.get(payload);
                } else {
                    body.position(end);
                }
                visitor.message(id, seq, expires, payload, FRAME + length);
            }
            case ACK -> visitor.ack(id, body.getLong());
            default -> visitor.forget(id);
        }
        return true;
    }
}
