package io.switchboard.bench.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Feeds a bench connection the peer's bytes over an {@link EmbeddedChannel} and reads what it wrote; checks that
 * it released every buffer it was given or allocated.
 */
final class Wire {
    private Wire() {}

    /** An active channel whose only handler is {@code conn}, with an allocator that counts what is not freed. */
    static EmbeddedChannel open(BenchConnection conn) {
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ch.config().setAllocator(new UnpooledByteBufAllocator(true));
        ch.pipeline().addLast(conn);
        try {
            ch.register();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return ch;
    }

    /** Closes the channel, drops what it wrote, and asserts that no buffer it allocated is left unreleased. */
    static void closeAndAssertReleased(EmbeddedChannel ch) {
        ch.close();
        ch.finishAndReleaseAll();
        UnpooledByteBufAllocator alloc = (UnpooledByteBufAllocator) ch.alloc();
        assertEquals(0, alloc.metric().usedDirectMemory() + alloc.metric().usedHeapMemory(),
                "bytes of buffers the connection allocated and did not release");
    }

    /** What the connection wrote (and flushed) since the last call, as one byte array. */
    static byte[] writtenBytes(EmbeddedChannel ch) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            try {
                out.writeBytes(ByteBufUtil.getBytes(b));
            } finally {
                b.release();
            }
        }
        return out.toByteArray();
    }

    static String written(EmbeddedChannel ch) {
        return new String(writtenBytes(ch), StandardCharsets.UTF_8);
    }

    /** One read from the peer (then a read-complete, as a real read batch). */
    static void feed(EmbeddedChannel ch, byte[] bytes) {
        ByteBuf in = Unpooled.wrappedBuffer(bytes);
        ch.writeInbound(in);
        assertEquals(0, in.refCnt(), "the connection released what it read");
    }

    static void feed(EmbeddedChannel ch, String text) {
        feed(ch, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Feeds the bytes one read at a time, to show a decoder copes with frames split anywhere. */
    static void feedByteByByte(EmbeddedChannel ch, byte[] bytes) {
        for (byte b : bytes) {
            feed(ch, new byte[] {b});
        }
    }

    static byte[] bytes(int... unsigned) {
        byte[] b = new byte[unsigned.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) unsigned[i];
        }
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A payload the bench would push: 'P' and an intended send time in epoch microseconds. */
    static String pushPayload(long ageUs) {
        return "P" + (BenchConnection.epochMicros() - ageUs);
    }

    /** Heartbeat time {@code seconds} from now. */
    static long inSeconds(long seconds) {
        return System.nanoTime() + seconds * 1_000_000_000L;
    }
}
