package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * Bytes a client sent before its upstream is connected (normally none: the client is not read yet), held as one
 * buffer until they can be written. Stateless; the held buffer belongs to the {@link Link}, on its event loop.
 */
final class EarlyBytes {
    /** Bytes a client may send before its upstream is connected; more closes it. */
    static final int MAX_BYTES = 256 * 1024;

    private EarlyBytes() {}

    /**
     * {@code held} (null when none yet) with {@code more} appended, without a copy: a composite buffer from the
     * second chunk on. Takes ownership of {@code more}.
     */
    static ByteBuf append(ByteBuf held, ByteBuf more, ByteBufAllocator alloc) {
        if (held == null) {
            return more;
        }
        CompositeByteBuf c;
        if (held instanceof CompositeByteBuf existing) {
            c = existing;
        } else {
            c = alloc.compositeBuffer();
            c.addComponent(true, held);
        }
        c.addComponent(true, more);
        return c;
    }
}
