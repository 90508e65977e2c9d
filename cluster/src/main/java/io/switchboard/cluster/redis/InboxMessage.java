package io.switchboard.cluster.redis;

import io.switchboard.session.MessageProperties;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What nodes send each other through their inbox streams, one field per stream entry: a push routed to the client's
 * owner, the owner's reply, and the notice that another node took a client over. Immutable.
 */
sealed interface InboxMessage {
    /** Push {@code payload} to {@code clientId}, held by the receiving node; answer {@code from} with {@code id}. */
    record Push(long id, String from, String clientId, int ttlSec, byte[] payload) implements InboxMessage {
    }

    /**
     * The answer to {@link Push} {@code id}: {@code status} as the API answers, or {@link #NOT_HERE} when the
     * client was not connected to the answering node.
     */
    record Reply(long id, int status, long seq, boolean delivered, String error) implements InboxMessage {
        static final int NOT_HERE = 0;
    }

    /**
     * A broadcast ({@code topic} empty) or topic message for the receiving node's own clients; answer {@code from}
     * with {@code id} and the number reached (as the reply's seq).
     */
    record FanOut(long id, String from, String topic, MessageProperties properties, byte[] payload)
            implements InboxMessage {
    }

    /** Close {@code clientId}'s connection with {@code BYE code reason}; answer 200 with seq 1 when it was here. */
    record Disconnect(long id, String from, String clientId, int code, String reason) implements InboxMessage {
    }

    /** One push of a {@link PushBatch}. */
    record Item(String clientId, int ttlSec, byte[] payload) {
    }

    /** Several pushes for clients held by the receiving node, in order; answered with one {@link BatchReply}. */
    record PushBatch(long id, String from, java.util.List<Item> items) implements InboxMessage {
    }

    /** The answers to {@link PushBatch} {@code id}, one {@link Reply} (its id unused) per item, in item order. */
    record BatchReply(long id, java.util.List<Reply> replies) implements InboxMessage {
    }

    /** {@code topic}'s retained message is now {@code payload} with {@code properties} (empty: none); no answer. */
    record Retained(String topic, byte[] payload, MessageProperties properties) implements InboxMessage {
    }

    /** Another node claimed {@code clientId} under {@code epoch}: close a connection held under an older one. */
    record TakenOver(String clientId, long epoch) implements InboxMessage {
    }

    static byte[] encode(InboxMessage m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            switch (m) {
                case Push p -> {
                    out.writeByte('P');
                    out.writeLong(p.id());
                    out.writeUTF(p.from());
                    out.writeUTF(p.clientId());
                    out.writeInt(p.ttlSec());
                    out.writeInt(p.payload().length);
                    out.write(p.payload());
                }
                case Reply r -> {
                    out.writeByte('R');
                    out.writeLong(r.id());
                    out.writeInt(r.status());
                    out.writeLong(r.seq());
                    out.writeBoolean(r.delivered());
                    out.writeUTF(r.error() == null ? "" : r.error());
                }
                case FanOut f -> {
                    // The earlier version's 'F' when it carries all there is (none, or user properties alone), so
                    // that its nodes still take this node's broadcasts and topic messages during a rolling upgrade.
                    boolean userOnly = userOnly(f.properties());
                    out.writeByte(userOnly ? 'F' : 'G');
                    out.writeLong(f.id());
                    out.writeUTF(f.from());
                    out.writeUTF(f.topic() == null ? "" : f.topic());
                    if (userOnly) {
                        java.util.List<String> user = f.properties() == null ? java.util.List.of()
                                : f.properties().user();
                        out.writeInt(user.size());
                        for (String u : user) {
                            out.writeUTF(u);
                        }
                    } else {
                        MessageProperties.write(f.properties(), out);
                    }
                    out.writeInt(f.payload().length);
                    out.write(f.payload());
                }
                case PushBatch b -> {
                    out.writeByte('p');
                    out.writeLong(b.id());
                    out.writeUTF(b.from());
                    out.writeInt(b.items().size());
                    for (Item item : b.items()) {
                        out.writeUTF(item.clientId());
                        out.writeInt(item.ttlSec());
                        out.writeInt(item.payload().length);
                        out.write(item.payload());
                    }
                }
                case BatchReply b -> {
                    out.writeByte('r');
                    out.writeLong(b.id());
                    out.writeInt(b.replies().size());
                    for (Reply r : b.replies()) {
                        out.writeInt(r.status());
                        out.writeLong(r.seq());
                        out.writeBoolean(r.delivered());
                        out.writeUTF(r.error() == null ? "" : r.error());
                    }
                }
                case Retained r -> {
                    out.writeByte(r.properties() == null ? 'K' : 'L'); // 'K': as the earlier version writes it
                    out.writeUTF(r.topic());
                    if (r.properties() != null) {
                        MessageProperties.write(r.properties(), out);
                    }
                    out.writeInt(r.payload().length);
                    out.write(r.payload());
                }
                case Disconnect d -> {
                    out.writeByte('D');
                    out.writeLong(d.id());
                    out.writeUTF(d.from());
                    out.writeUTF(d.clientId());
                    out.writeInt(d.code());
                    out.writeUTF(d.reason());
                }
                case TakenOver t -> {
                    out.writeByte('T');
                    out.writeUTF(t.clientId());
                    out.writeLong(t.epoch());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    /**
     * Whether {@code p} is what an earlier version's {@link FanOut} carries: nothing, or user properties whose
     * strings its writeUTF takes (at most 65,535 bytes of modified UTF-8 each; a third of that is always safe).
     */
    private static boolean userOnly(MessageProperties p) {
        if (p == null) {
            return true;
        }
        if (p.contentType() != null || p.responseTopic() != null || p.correlationData() != null
                || p.payloadFormat() != MessageProperties.NO_FORMAT || p.expiresAtMs() != 0) {
            return false;
        }
        for (String u : p.user()) {
            if (u.length() > 65_535 / 3) {
                return false;
            }
        }
        return true;
    }

    /**
     * A message of a type this version does not know: one a later version sends (a rolling upgrade). Skipped, not
     * taken for a broken peer: its link stays up for what this node does know.
     */
    final class UnknownType extends IOException {
        UnknownType(int type) {
            super("unknown inbox message type " + type);
        }
    }

    /** A count or length read from {@code bytes}: never more than they hold. */
    private static int count(int n, byte[] bytes) throws IOException {
        if (n < 0 || n > bytes.length) {
            throw new IOException("bad count " + n);
        }
        return n;
    }

    /** The user properties of an earlier version's {@link FanOut}: a count, then names and values. */
    private static MessageProperties userPairs(DataInputStream in, byte[] bytes) throws IOException {
        int count = count(in.readInt(), bytes);
        java.util.List<String> pairs = new java.util.ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            pairs.add(in.readUTF());
        }
        return MessageProperties.ofUser(pairs);
    }

    /** The message in {@code bytes}; throws {@link IOException} when they are not one. */
    static InboxMessage decode(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        int type = in.readByte();
        switch (type) {
            case 'P' -> {
                long id = in.readLong();
                String from = in.readUTF();
                String clientId = in.readUTF();
                int ttlSec = in.readInt();
                int n = in.readInt();
                if (n < 0 || n > bytes.length) {
                    throw new IOException("bad payload length " + n);
                }
                return new Push(id, from, clientId, ttlSec, in.readNBytes(n));
            }
            case 'R' -> {
                long id = in.readLong();
                int status = in.readInt();
                long seq = in.readLong();
                boolean delivered = in.readBoolean();
                String error = in.readUTF();
                return new Reply(id, status, seq, delivered, error.isEmpty() ? null : error);
            }
            case 'T' -> {
                return new TakenOver(in.readUTF(), in.readLong());
            }
            case 'p' -> {
                long id = in.readLong();
                String from = in.readUTF();
                int count = count(in.readInt(), bytes);
                java.util.List<Item> items = new java.util.ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    String clientId = in.readUTF();
                    int ttlSec = in.readInt();
                    items.add(new Item(clientId, ttlSec, in.readNBytes(count(in.readInt(), bytes))));
                }
                return new PushBatch(id, from, items);
            }
            case 'r' -> {
                long id = in.readLong();
                int count = count(in.readInt(), bytes);
                java.util.List<Reply> replies = new java.util.ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    int status = in.readInt();
                    long seq = in.readLong();
                    boolean delivered = in.readBoolean();
                    String error = in.readUTF();
                    replies.add(new Reply(id, status, seq, delivered, error.isEmpty() ? null : error));
                }
                return new BatchReply(id, replies);
            }
            case 'L' -> {
                String topic = in.readUTF();
                MessageProperties props = MessageProperties.read(in, bytes.length);
                return new Retained(topic, in.readNBytes(count(in.readInt(), bytes)), props);
            }
            case 'K' -> { // without properties (as the earlier version writes it too)
                String topic = in.readUTF();
                return new Retained(topic, in.readNBytes(count(in.readInt(), bytes)), null);
            }
            case 'D' -> {
                return new Disconnect(in.readLong(), in.readUTF(), in.readUTF(), in.readInt(), in.readUTF());
            }
            case 'F', 'G' -> { // 'F': user properties alone (the earlier version's, still written when enough)
                long id = in.readLong();
                String from = in.readUTF();
                String topic = in.readUTF();
                MessageProperties props = type == 'G' ? MessageProperties.read(in, bytes.length)
                        : userPairs(in, bytes);
                int n = in.readInt();
                if (n < 0 || n > bytes.length) {
                    throw new IOException("bad payload length " + n);
                }
                return new FanOut(id, from, topic.isEmpty() ? null : topic, props, in.readNBytes(n));
            }
            default -> throw new UnknownType(type);
        }
    }
}
