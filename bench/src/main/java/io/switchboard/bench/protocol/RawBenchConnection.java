package io.switchboard.bench.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A plain TCP client: established as soon as the connection is up, then held. With the echo check it sends a
 * 16-byte probe (its own tag, then a sequence number) every {@code hb} seconds and expects each back in order,
 * as a proxy in front of an echo server or an echo server returns it; a wrong probe or one not back by the next
 * is an error. Without the check whatever arrives is discarded. Owned by its channel's event loop.
 */
final class RawBenchConnection extends BenchConnection {
    static final int PROBE_BYTES = 16;
    private static final long TAG_SALT = 0x5357_4245_4348_4f00L; // "SWBECHO\0"

    private final boolean echoCheck;
    private long probesSent;
    private long probesBack;

    /** {@code hbSec} is the probe interval; it is ignored without the echo check (nothing is ever sent). */
    RawBenchConnection(BenchEnv env, String clientId, int hbSec, long connectStartNs, boolean echoCheck) {
        super(env, clientId, echoCheck ? hbSec : 0, connectStartNs);
        this.echoCheck = echoCheck;
    }

    @Override
    String protocol() {
        return "raw";
    }

    @Override
    void onConnected() {
        established();
    }

    @Override
    void ping() {
        if (probesSent > probesBack) {
            report("raw: echo not back within hb");
        }
        probesSent++;
        ByteBuf probe = ctx.alloc().ioBuffer(PROBE_BYTES);
        probe.writeLong(tag()).writeLong(probesSent);
        write(probe);
    }

    @Override
    boolean decodeOne(ByteBuf b) {
        if (!echoCheck) {
            b.skipBytes(b.readableBytes());
            return true;
        }
        if (b.readableBytes() < PROBE_BYTES) {
            return false;
        }
        long tag = b.readLong();
        long seq = b.readLong();
        if (tag == tag() && seq == probesBack + 1 && seq <= probesSent) {
            probesBack = seq;
            // Counted as a message; the tag starts with 'S', so no latency is read from it.
            onPayload(b, b.readerIndex() - PROBE_BYTES, PROBE_BYTES);
        } else {
            // Out of step with the stream: drop what is buffered and count every probe in flight as answered.
            report("raw: echo mismatch");
            b.skipBytes(b.readableBytes());
            probesBack = probesSent;
        }
        return true;
    }

    /** Per client, so that a proxy returning another client's bytes is caught. */
    private long tag() {
        return TAG_SALT ^ Integer.toUnsignedLong(clientId.hashCode());
    }
}
