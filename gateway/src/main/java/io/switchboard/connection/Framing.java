package io.switchboard.connection;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;

/**
 * A framing layer in front of a {@link ClientConnection} in its pipeline (WebSocket): it unwraps the client's bytes
 * before the connection decodes them and wraps what the connection writes, so the protocol above does not know it
 * is there, except when the connection closes: then the framing has its own last word, written after the
 * protocol's goodbye. A control frame of its own (a ping) is passed on as an empty buffer: the connection counts it
 * as activity and against the client's frame budget. Owned by the channel's event loop.
 */
public interface Framing extends ChannelHandler {
    /**
     * The framing's close, written after the protocol's goodbye (if any), or null for none.
     *
     * @param code why, as {@link ClientConnection} closes: 0 when the client said goodbye itself, an HTTP-like code
     *             (401, 408, 409, 429, 503 ...), or a protocol's own reason negated (an MQTT reason code)
     * @param text one printable line
     */
    Object closeFrame(ByteBufAllocator alloc, int code, String text);

    /**
     * True once, when the framing admitted the connection itself (it held the client address's place under the
     * connection limits while its own handshake ran): the connection takes that place over instead of asking again.
     */
    default boolean handOverAdmission() {
        return false;
    }
}
