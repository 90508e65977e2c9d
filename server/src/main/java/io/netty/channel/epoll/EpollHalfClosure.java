package io.netty.channel.epoll;

import io.netty.channel.Channel;
import java.io.IOException;

/**
 * Switchboard's workaround for a Netty 4.2.18 epoll bug that loses data on half-closed connections; it lives in
 * Netty's package because {@link AbstractEpollChannel#setFlag} is protected.
 *
 * <p>The bug: when a channel's input has ended (the peer's FIN: EPOLLRDHUP handled and cleared, EPOLLIN cleared
 * because nobody reads), its interest set becomes empty and {@code EpollIoHandler} removes the fd from the epoll set
 * ({@code EPOLL_CTL_DEL}, since netty/netty#16689) but keeps the registration marked as added. The next write that
 * fills the socket asks for EPOLLOUT with {@code EPOLL_CTL_MOD}, which fails with ENOENT; the channel's output is
 * shut down and every byte still queued is dropped. A proxy hits it whenever a client half-closes and then reads a
 * large reply slowly.
 *
 * <p>The workaround: once the input ended, add EPOLLET to the channel's interest set, so it is never empty and the fd
 * stays registered. Edge triggering is harmless at that point: nothing reads any more, and EPOLLOUT is only asked for
 * after a write met a full socket, so its edge comes when space frees. Must run on the channel's event loop.
 */
public final class EpollHalfClosure {
    private EpollHalfClosure() {}

    /** Keeps {@code ch}'s fd in the epoll set after its input ended; a no-op for other transports. */
    public static void keepRegistered(Channel ch) throws IOException {
        if (ch instanceof AbstractEpollChannel c && c.isRegistered() && c.isOpen()) {
            c.setFlag(Native.EPOLLET);
        }
    }
}
