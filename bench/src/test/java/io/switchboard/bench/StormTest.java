package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The reconnect storm's pieces: backoff, the server's retry hint, the reconnect hand-off and the return times. */
class StormTest {

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void shouldDrawFullJitterUnderADoublingCeilingCappedAt60Seconds() {
        assertEquals(1_000, StormReconnect.ceilingMs(0));
        assertEquals(2_000, StormReconnect.ceilingMs(1));
        assertEquals(32_000, StormReconnect.ceilingMs(5));
        assertEquals(60_000, StormReconnect.ceilingMs(6));
        assertEquals(60_000, StormReconnect.ceilingMs(63));
        SplittableRandom random = new SplittableRandom(42);
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 10_000; i++) {
            long d = StormReconnect.delayMs(0, -1, random);
            min = Math.min(min, d);
            max = Math.max(max, d);
            assertTrue(StormReconnect.delayMs(9, -1, random) <= 60_000);
        }
        assertTrue(min < 50 && max > 950 && max <= 1_000, "uniform over [0, 1 s]: " + min + ".." + max);
    }

    @Test
    void shouldHonourTheServersRetryWithAtMostATenthOfJitter() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 1_000; i++) {
            long d = StormReconnect.delayMs(4, 1_500, random);
            assertTrue(d >= 1_500 && d <= 1_650, "retry=1500 gave " + d);
            long big = StormReconnect.delayMs(0, 30_000, random);
            assertTrue(big >= 30_000 && big <= 31_000, "retry=30000 gave " + big);
        }
        assertEquals(5, StormReconnect.delayMs(3, 5, random));
    }

    @Test
    void shouldReadTheRetryHintOfAByeLineWithoutConsumingIt() {
        ByteBuf b = ascii("MSG 1 5\nhello\nBYE 429 too many connections retry=1500\n");
        b.readerIndex(8); // mid-buffer, as after a partial read
        assertEquals(1_500, StormReconnect.retryHintMs(b));
        assertEquals(8, b.readerIndex());
        b.release();
        ByteBuf noRetry = ascii("BYE 503 draining\n");
        assertEquals(-1, StormReconnect.retryHintMs(noRetry));
        noRetry.release();
        ByteBuf payloadOnly = ascii("MSG 2 8\nretry=99\n");
        assertEquals(-1, StormReconnect.retryHintMs(payloadOnly), "retry= outside a BYE line is payload");
        payloadOnly.release();
    }

    private record Call(int client, int attempt, long retryMs) {
    }

    @Test
    void shouldAskForTheNextAttemptWithTheRetryHintWhenTheConnectionIsLost() {
        List<Call> calls = new ArrayList<>();
        StormReconnect h = new StormReconnect((loop, client, attempt, retryMs) ->
                calls.add(new Call(client, attempt, retryMs)), 17, 2);
        List<Object> passedOn = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(h, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                passedOn.add(msg);
                ((ByteBuf) msg).release();
            }
        });

        ch.writeInbound(ascii("BYE 429 too many connections retry=2500\n"));
        assertEquals(1, passedOn.size(), "the bytes reach the protocol handler");
        assertTrue(calls.isEmpty());
        ch.close();

        assertEquals(List.of(new Call(17, 3, 2_500)), calls);
    }

    @Test
    void shouldAskForTheNextAttemptWithBackoffWhenNoRetryArrived() {
        List<Call> calls = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(new StormReconnect((loop, client, attempt, retryMs) ->
                calls.add(new Call(client, attempt, retryMs)), 4, 0));
        ch.close();
        assertEquals(List.of(new Call(4, 1, -1)), calls);
    }

    @Test
    void shouldRecordEachReturnAtItsTimeSinceTheDrop() {
        BenchStats stats = new BenchStats();
        AtomicLong established = new AtomicLong(1_000);
        long dropNs = 5_000_000_000L;
        StormTracker t = new StormTracker(stats, established::get, 10, 1_000, dropNs);

        t.poll(dropNs + 100_000_000L); // nothing back yet
        established.addAndGet(4);
        t.poll(dropNs + 1_000_000_000L);
        established.addAndGet(6);
        t.poll(dropNs + 3_000_000_000L);

        assertTrue(t.allBack());
        Histogram back = stats.drainAll().stormBack();
        assertEquals(10, back.getTotalCount());
        assertEquals(4, back.getCountAtValue(1_000_000));
        assertEquals(6, back.getCountAtValue(3_000_000));
    }

    @Test
    void shouldFindTheTimeByWhich99PercentWereBack() {
        Histogram back = new Histogram(3);
        back.recordValueWithCount(1_000_000, 980);
        back.recordValueWithCount(2_000_000, 15);
        back.recordValueWithCount(9_000_000, 5);

        assertEquals(2_000_000, StormTracker.timeToFractionUs(back, 1_000, 0.99), 2_000);
        assertEquals(9_000_000, StormTracker.timeToFractionUs(back, 1_000, 1.0), 9_000);
        assertEquals(-1, StormTracker.timeToFractionUs(back, 2_000, 0.99), "only half came back");
        assertEquals(-1, StormTracker.timeToFractionUs(back, 0, 0.99));
        assertFalse(StormTracker.timeToFractionUs(back, 1_001, 1.0) >= 0);
    }
}
