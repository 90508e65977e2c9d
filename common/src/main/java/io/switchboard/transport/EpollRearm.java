package io.switchboard.transport;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;

/**
 * The epoll I/O handler with a fix for a Netty 4.2.18 defect: a channel whose interest set becomes empty is removed
 * from epoll ({@code EPOLL_CTL_DEL}, netty PR #16689) but its registration still counts as added, so the next
 * interest (EPOLLOUT for a full socket buffer, EPOLLIN for a read) is an {@code EPOLL_CTL_MOD} that fails with
 * ENOENT, and the channel fails the write or closes. The set becomes empty on a socket whose peer sent its FIN (no
 * EPOLLRDHUP left) and that is neither read nor waiting to write: a half-closed connection that then receives more
 * than the socket buffer holds (or, with {@code --splice}, any drain after the FIN) lost its data.
 *
 * <p>Here an empty interest set cancels the registration (the same {@code EPOLL_CTL_DEL}) and the next non-empty
 * one registers the channel again ({@code EPOLL_CTL_ADD}). All on the channel's event loop, like the calls it wraps.
 */
final class EpollRearm implements IoHandler {
    private final IoHandler epoll;
    /** The handler's native arrays, the same for every registration (writes use them while a channel is parked). */
    private Object attachment;

    private EpollRearm(IoHandler epoll) {
        this.epoll = epoll;
    }

    static IoHandlerFactory newFactory() {
        IoHandlerFactory epoll = EpollIoHandler.newFactory();
        return executor -> new EpollRearm(epoll.newHandler(executor));
    }

    @Override
    public void initialize() {
        epoll.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
        return epoll.run(context);
    }

    @Override
    public void prepareToDestroy() {
        epoll.prepareToDestroy();
    }

    @Override
    public void destroy() {
        epoll.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        IoRegistration first = epoll.register(handle);
        attachment = first.attachment();
        return new Registration(handle, first);
    }

    @Override
    public void wakeup() {
        epoll.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return epoll.isCompatible(handleType);
    }

    /** Stands for a cancelled registration in {@link Registration#current}. */
    private static final IoRegistration CANCELLED = new IoRegistration() {
        @Override
        public <T> T attachment() {
            return null;
        }

        @Override
        public long submit(IoOps ops) {
            return -1;
        }

        @Override
        public boolean isValid() {
            return false;
        }

        @Override
        public boolean cancel() {
            return false;
        }
    };

    /**
     * One channel's registration: the epoll one while the channel wants events, none while it wants nothing. Two
     * fields (16 bytes with compact headers): the gateway's loops carry one per client connection.
     */
    private final class Registration implements IoRegistration {
        private final IoHandle handle;
        /** The epoll registration; null while parked (the interest set is empty, the fd out of epoll); CANCELLED. */
        private IoRegistration current;

        Registration(IoHandle handle, IoRegistration current) {
            this.handle = handle;
            this.current = current;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T attachment() {
            return (T) attachment;
        }

        @Override
        public long submit(IoOps ops) {
            if (current == CANCELLED) {
                return -1;
            }
            if (((EpollIoOps) ops).value() == 0) {
                if (current != null) {
                    current.cancel(); // EPOLL_CTL_DEL, and the fd leaves the handler's map
                    current = null;
                }
                return 0;
            }
            if (current == null) {
                try {
                    current = epoll.register(handle); // EPOLL_CTL_ADD at the submit below
                } catch (Exception e) {
                    throw new IllegalStateException("cannot register the channel with epoll again", e);
                }
            }
            return current.submit(ops);
        }

        @Override
        public boolean isValid() {
            return current != CANCELLED;
        }

        @Override
        public boolean cancel() {
            if (current == CANCELLED) {
                return false;
            }
            if (current != null) {
                current.cancel();
            }
            current = CANCELLED;
            return true;
        }
    }
}
