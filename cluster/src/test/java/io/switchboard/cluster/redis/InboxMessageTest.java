package io.switchboard.cluster.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.switchboard.session.MessageProperties;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What nodes send each other: message properties round trip, and an earlier version's messages still read. */
class InboxMessageTest {
    private static final MessageProperties PROPS = new MessageProperties(List.of("k", "v😀", "k", ""), "text/plain",
            "replies/x", new byte[] {0, -1, 7}, 1, 1_700_000_123_456L);

    private static void assertSame(MessageProperties expected, MessageProperties got) {
        assertEquals(List.of(expected.user(), expected.contentType(), expected.responseTopic(),
                        expected.payloadFormat(), expected.expiresAtMs()),
                List.of(got.user(), got.contentType(), got.responseTopic(), got.payloadFormat(), got.expiresAtMs()));
        assertArrayEquals(expected.correlationData(), got.correlationData());
    }

    @Test
    void aTopicMessageAndARetainedOneKeepEveryProperty() throws Exception {
        var f = (InboxMessage.FanOut) InboxMessage.decode(InboxMessage.encode(
                new InboxMessage.FanOut(7, "a", "t/1", PROPS, new byte[] {1, 2})));
        assertEquals(List.of(7L, "a", "t/1"), List.of(f.id(), f.from(), f.topic()));
        assertSame(PROPS, f.properties());
        assertArrayEquals(new byte[] {1, 2}, f.payload());
        var none = (InboxMessage.FanOut) InboxMessage.decode(InboxMessage.encode(
                new InboxMessage.FanOut(8, "a", null, null, new byte[0])));
        assertNull(none.properties());
        assertNull(none.topic());
        var user = (InboxMessage.FanOut) InboxMessage.decode(InboxMessage.encode(
                new InboxMessage.FanOut(9, "a", "t", MessageProperties.ofUser(List.of("k", "v")), new byte[0])));
        assertEquals(List.of("k", "v"), user.properties().user());
        var plain = (InboxMessage.Retained) InboxMessage.decode(InboxMessage.encode(
                new InboxMessage.Retained("t/0", new byte[] {5}, null)));
        assertNull(plain.properties());
        assertArrayEquals(new byte[] {5}, plain.payload());

        var r = (InboxMessage.Retained) InboxMessage.decode(InboxMessage.encode(
                new InboxMessage.Retained("t/2", new byte[] {3}, PROPS)));
        assertEquals("t/2", r.topic());
        assertSame(PROPS, r.properties());
        assertArrayEquals(new byte[] {3}, r.payload());
        var kept = RedisDirectory.retainedFrom(RedisDirectory.retainedValue(new byte[] {4, 5}, PROPS));
        assertSame(PROPS, kept.properties());
        assertArrayEquals(new byte[] {4, 5}, kept.payload());
        assertNull(RedisDirectory.retainedFrom(RedisDirectory.retainedValue(new byte[] {6}, null)).properties());
    }

    @Test
    void whatAnEarlierVersionCanReadIsWrittenAsItWritesIt() {
        // Its nodes drop an unknown type: the broadcasts and topic messages without more than user properties, and
        // retained messages without properties, still reach them during a rolling upgrade.
        assertEquals('F', InboxMessage.encode(new InboxMessage.FanOut(1, "a", null, null, new byte[0]))[0]);
        assertEquals('F', InboxMessage.encode(new InboxMessage.FanOut(1, "a", "t", MessageProperties.ofUser(
                List.of("k", "v")), new byte[0]))[0]);
        assertEquals('G', InboxMessage.encode(new InboxMessage.FanOut(1, "a", "t", PROPS, new byte[0]))[0]);
        assertEquals('K', InboxMessage.encode(new InboxMessage.Retained("t", new byte[] {1}, null))[0]);
        assertEquals('L', InboxMessage.encode(new InboxMessage.Retained("t", new byte[] {1}, PROPS))[0]);
    }

    @Test
    void aMessageOfALaterVersionsTypeIsAnUnknownTypeNotABrokenMessage() {
        org.junit.jupiter.api.Assertions.assertThrows(InboxMessage.UnknownType.class,
                () -> InboxMessage.decode(new byte[] {'Z', 1, 2}));
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> InboxMessage.decode(new byte[] {'G', 1})); // cut short: broken, not unknown
        try {
            InboxMessage.decode(new byte[] {'G', 1});
        } catch (InboxMessage.UnknownType wrong) {
            throw new AssertionError("a cut message is not of an unknown type");
        } catch (java.io.IOException expected) {
            // broken
        }
    }

    @Test
    void aTopicMessageAndARetainedOneFromAnEarlierVersionAreRead() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) { // 'F' as an earlier version wrote it
            out.writeByte('F');
            out.writeLong(9);
            out.writeUTF("old");
            out.writeUTF("t/3");
            out.writeInt(2);
            out.writeUTF("name");
            out.writeUTF("value");
            out.writeInt(2);
            out.write(new byte[] {8, 9});
        }
        var f = (InboxMessage.FanOut) InboxMessage.decode(bytes.toByteArray());
        assertEquals(List.of(9L, "old", "t/3"), List.of(f.id(), f.from(), f.topic()));
        assertEquals(List.of("name", "value"), f.properties().user());
        assertArrayEquals(new byte[] {8, 9}, f.payload());

        bytes.reset();
        try (DataOutputStream out = new DataOutputStream(bytes)) { // 'K' as an earlier version wrote it
            out.writeByte('K');
            out.writeUTF("t/4");
            out.writeInt(3);
            out.write("abc".getBytes(StandardCharsets.UTF_8));
        }
        var r = (InboxMessage.Retained) InboxMessage.decode(bytes.toByteArray());
        assertEquals("t/4", r.topic());
        assertNull(r.properties());
        assertEquals("abc", new String(r.payload(), StandardCharsets.UTF_8));
    }
}
