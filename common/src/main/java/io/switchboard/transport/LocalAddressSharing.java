package io.switchboard.transport;

import io.netty.channel.Channel;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes every accepted epoll connection share one cached local-address object per distinct local address.
 *
 * <p>Netty's epoll channel caches its local address eagerly at accept, four objects (about 80 heap bytes) per
 * connection, although a server's connections have only a handful of distinct local addresses between them.
 * Replacing the cached value with an equal, shared instance changes nothing a caller can observe
 * ({@link java.net.InetSocketAddress} is immutable) and saves those bytes on every idle connection. Where
 * Netty's internals differ (another version), {@link #supported()} is false and channels keep their own copy.
 * Thread-safe.
 */
public final class LocalAddressSharing {
    /** Distinct local addresses shared at most; a server sees few. Past this, new addresses are left alone. */
    private static final int MAX_SHARED = 1024;
    private static final ConcurrentHashMap<SocketAddress, SocketAddress> SHARED = new ConcurrentHashMap<>();
    private static final Class<?> EPOLL_CHANNEL = epollChannelClass();
    private static final VarHandle LOCAL = find();

    private LocalAddressSharing() {}

    public static boolean supported() {
        return LOCAL != null;
    }

    /** Replaces {@code ch}'s cached local address with the shared equal instance; a no-op for other channels. */
    public static void share(Channel ch) {
        if (LOCAL == null || !EPOLL_CHANNEL.isInstance(ch)) {
            return;
        }
        SocketAddress mine = (SocketAddress) LOCAL.getVolatile(ch);
        if (mine == null) {
            return;
        }
        SocketAddress shared = SHARED.get(mine);
        if (shared == null) {
            if (SHARED.size() >= MAX_SHARED) {
                return;
            }
            shared = SHARED.putIfAbsent(mine, mine);
            if (shared == null) {
                return;
            }
        }
        LOCAL.setVolatile(ch, shared);
    }

    private static Class<?> epollChannelClass() {
        try {
            return Class.forName("io.netty.channel.epoll.AbstractEpollChannel");
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    private static VarHandle find() {
        if (EPOLL_CHANNEL == null) {
            return null;
        }
        try {
            return MethodHandles.privateLookupIn(EPOLL_CHANNEL, MethodHandles.lookup())
                    .findVarHandle(EPOLL_CHANNEL, "local", SocketAddress.class);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
