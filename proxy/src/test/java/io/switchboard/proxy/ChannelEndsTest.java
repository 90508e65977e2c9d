package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/** Closing a side after its pending bytes, and cutting it when its peer takes none of them. */
class ChannelEndsTest {
    @Test
    void aClosingChannelWhosePeerTakesNothingIsCutOnceTheLimitPassesAndCounted() {
        // Writes that never complete: a peer that does not read.
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ReferenceCountUtil.release(msg);
            }
        });
        LongAdder cutOff = new LongAdder();
        ChannelEnds.closeAfterFlush(ch, cutOff);
        ch.advanceTimeBy(ChannelEnds.closeFlushLimitMs - 1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isOpen(), "within the limit");
        ch.advanceTimeBy(2, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertFalse(ch.isOpen(), "nothing taken for the whole limit: closed");
        assertEquals(1, cutOff.sum());
    }

    @Test
    void aClosingChannelWhoseBytesAreTakenClosesWithoutACut() {
        EmbeddedChannel ch = new EmbeddedChannel();
        LongAdder cutOff = new LongAdder();
        ChannelEnds.closeAfterFlush(ch, cutOff);
        assertFalse(ch.isOpen());
        ch.advanceTimeBy(ChannelEnds.closeFlushLimitMs + 1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(0, cutOff.sum());
    }
}
