package io.switchboard.swb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so a test can check that all were released; its buffers
 * are also watched by Netty's leak detector (PARANOID in the build).
 */
final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> allocated = new ArrayList<>();

    TrackingAllocator() {
        super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(toLeakAwareBuffer(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity)));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(toLeakAwareBuffer(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity)));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    private ByteBuf track(ByteBuf b) {
        allocated.add(b);
        return b;
    }

    int allocations() {
        return allocated.size();
    }

    /** A buffer holding {@code bytes[from, to)}, as a socket read would deliver it. */
    ByteBuf chunk(byte[] bytes, int from, int to) {
        return directBuffer(Math.max(1, to - from)).writeBytes(bytes, from, to - from);
    }

    /** A buffer holding the characters of {@code text} as bytes (ISO-8859-1). */
    ByteBuf chunk(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        return chunk(bytes, 0, bytes.length);
    }

    void assertAllReleased() {
        for (ByteBuf b : allocated) {
            assertEquals(0, b.refCnt(), "a buffer was not released");
        }
    }
}
