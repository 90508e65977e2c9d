package io.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Guards the Netty internal the sharing relies on: a Netty upgrade that changes it fails here. */
class LocalAddressSharingTest {

    @Test
    void shouldShareOneLocalAddressObjectBetweenAcceptedEpollChannels() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll not available");
        assertTrue(LocalAddressSharing.supported(), "AbstractEpollChannel.local is no longer reachable");
        EventLoopGroup group = Transport.EPOLL.newGroup(1, Thread::new);
        List<SocketChannel> accepted = new CopyOnWriteArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        try {
            Channel server = new ServerBootstrap().group(group).channel(Transport.EPOLL.serverChannelClass())
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (accepted.size() < 2) {
                                LocalAddressSharing.share(ch); // the third keeps Netty's own copy, as a control
                            }
                            accepted.add(ch);
                            three.countDown();
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            try (Socket a = new Socket("127.0.0.1", port); Socket b = new Socket("127.0.0.1", port);
                 Socket c = new Socket("127.0.0.1", port)) {
                assertTrue(three.await(5, TimeUnit.SECONDS));
                assertSame(accepted.get(0).localAddress(), accepted.get(1).localAddress());
                assertNotSame(accepted.get(0).localAddress(), accepted.get(2).localAddress(),
                        "Netty allocates one per channel");
                assertEquals(accepted.get(2).localAddress(), accepted.get(1).localAddress());
                assertEquals(new InetSocketAddress("127.0.0.1", port), accepted.get(1).localAddress());
            }
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
