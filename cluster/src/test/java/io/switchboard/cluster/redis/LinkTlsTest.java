package io.switchboard.cluster.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A link's opener accepts only the certificate its peer announced: another process's fails the handshake. */
@Timeout(30)
class LinkTlsTest {
    @Test
    void shouldCompleteTheHandshakeOnlyWithThePeerWhoseCertificateWasAnnounced() throws Exception {
        LinkTls a = LinkTls.generate("a");
        LinkTls other = LinkTls.generate("a"); // the same node name, another process: another key
        assertFalse(a.fingerprint.equals(other.fingerprint));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(a.serverHandler(ch.alloc()));
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();

            Future<Channel> pinnedRight = handshake(group, port, a.fingerprint);
            assertTrue(pinnedRight.isSuccess(), String.valueOf(pinnedRight.cause()));
            SslHandler tls = pinnedRight.getNow().pipeline().get(SslHandler.class);
            assertEquals("TLSv1.3", tls.engine().getSession().getProtocol());
            assertEquals(a.fingerprint, LinkTls.fingerprint(
                    (X509Certificate) tls.engine().getSession().getPeerCertificates()[0]));
            pinnedRight.getNow().close().sync();

            Future<Channel> pinnedWrong = handshake(group, port, other.fingerprint);
            assertFalse(pinnedWrong.isSuccess(), "a certificate other than the announced one was accepted");
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void shouldMakeAWellFormedSelfSignedCertificate() throws Exception {
        var g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        var pair = g.generateKeyPair();
        X509Certificate c = LinkTls.selfSigned(pair, "switchboard cluster link n1");
        c.verify(pair.getPublic()); // signed by its own key
        c.checkValidity();
        assertEquals(3, c.getVersion());
        assertEquals("CN=switchboard cluster link n1", c.getSubjectX500Principal().getName());
        assertEquals(c.getSubjectX500Principal(), c.getIssuerX500Principal());
        assertEquals("SHA256withECDSA", c.getSigAlgName());
    }

    private static Future<Channel> handshake(EventLoopGroup group, int port, String pinned) throws Exception {
        SslHandler[] handler = new SslHandler[1];
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        handler[0] = LinkTls.clientHandler(ch.alloc(), pinned, "127.0.0.1", port);
                        ch.pipeline().addLast(handler[0]);
                    }
                }).connect("127.0.0.1", port).sync().channel();
        Future<Channel> done = handler[0].handshakeFuture().await();
        if (!done.isSuccess()) {
            ch.close().sync();
        }
        return done;
    }
}
