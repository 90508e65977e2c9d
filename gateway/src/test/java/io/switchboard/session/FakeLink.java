package io.switchboard.session;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A client connection without a socket: records the payloads written, and can be told to fill up or to throw as a
 * broken protocol adapter would. Used on one loop only, like a real connection.
 */
final class FakeLink implements ClientLink {
    static final String FAILURE_MESSAGE = "broken link";
    final List<String> written = new ArrayList<>();
    boolean writable = true;
    boolean failWrites;
    boolean failAddress;
    boolean failClose;
    /** False: as MQTT at QoS 0, a ttl=0 message leaves the queue once written (nothing acknowledges it). */
    boolean acknowledgesTransient = true;

    @Override
    public boolean acknowledgesTransient() {
        return acknowledgesTransient;
    }

    @Override
    public void writeMessage(Message m) {
        if (failWrites) {
            throw new IllegalStateException(FAILURE_MESSAGE);
        }
        written.add(new String(m.payload(), StandardCharsets.US_ASCII));
    }

    @Override
    public void flush() {
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void close(int code, String text, long retryMs) {
        if (failClose) {
            throw new IllegalStateException(FAILURE_MESSAGE);
        }
    }

    @Override
    public String protocol() {
        return "fake";
    }

    @Override
    public String remoteAddress() {
        if (failAddress) {
            throw new IllegalStateException(FAILURE_MESSAGE);
        }
        return "test";
    }
}
