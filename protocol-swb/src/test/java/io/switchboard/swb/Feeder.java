package io.switchboard.swb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import java.util.function.BooleanSupplier;

/** Feeds bytes to a parser in chunks, as a connection adapter would, and cleans up after it. */
final class Feeder {
    private Feeder() {
    }

    /**
     * Feeds {@code bytes} cut at the ascending offsets {@code cuts}, releasing each chunk after use and discarding
     * input once {@code discard} holds (as adapters do after malformed input); returns the bytes left unread.
     */
    static <H> ByteBuf feed(SwbParser<H> parser, H handler, TrackingAllocator alloc, byte[] bytes, int[] cuts,
                            BooleanSupplier discard) {
        ByteBuf pending = null;
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : bytes.length;
            if (to <= from) {
                continue;
            }
            ByteBuf chunk = alloc.chunk(bytes, from, to);
            try {
                if (!discard.getAsBoolean()) {
                    pending = parser.feed(alloc, pending, chunk, handler);
                }
            } finally {
                chunk.release();
            }
            from = to;
        }
        if (discard.getAsBoolean()) {
            assertEquals(null, pending, "a buffer is kept after malformed input");
        }
        return pending;
    }

    /** Parses {@code bytes} arriving in one piece. */
    static <H> void parseWhole(SwbParser<H> parser, H handler, TrackingAllocator alloc, byte[] bytes) {
        ByteBuf in = alloc.chunk(bytes, 0, bytes.length);
        try {
            parser.parse(in, handler);
        } finally {
            in.release();
        }
    }

    static void release(ByteBuf pending) {
        if (pending != null) {
            pending.release();
        }
    }
}
