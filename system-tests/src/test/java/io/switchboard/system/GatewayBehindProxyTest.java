package io.switchboard.system;

import io.switchboard.server.GatewayFixture;
import io.switchboard.server.SwbTestClient;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.proxy.ProxyConfig;
import io.switchboard.proxy.ProxyServer;
import io.switchboard.proxy.RouteConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * End to end: clients reach the gateway through {@code switchboard proxy --send-proxy v2}, the gateway runs with
 * {@code --accept-proxy}, and sees (and limits by) each client's own address, not the proxy's.
 */
@Timeout(30)
class GatewayBehindProxyTest {
    private final GatewayFixture gw = new GatewayFixture();
    private ProxyServer proxy;

    @AfterEach
    void close() {
        if (proxy != null) {
            proxy.close();
        }
        gw.close();
    }

    private int startBoth() throws Exception {
        gw.config.acceptProxy = true;
        gw.config.maxConnectionsPerIp = 1;
        gw.start();
        return startProxy(r -> r.sendProxy = RouteConfig.SendProxy.V2);
    }

    /** A proxy of one route to the started gateway, set up further by {@code route}: its port. */
    private int startProxy(java.util.function.Consumer<RouteConfig> route) throws Exception {
        ProxyConfig pc = new ProxyConfig();
        pc.eventLoops = 1;
        RouteConfig r = pc.route();
        r.listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        r.upstreams = List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), gw.server().port()));
        route.accept(r);
        proxy = ProxyServer.start(pc);
        return proxy.port();
    }

    @Test
    void shouldSeeAndLimitEachClientByItsOwnAddressThroughTheProxy() throws Exception {
        int port = startBoth();
        // Every connection reaches the gateway from the proxy's one address; the PROXY v2 header tells them apart.
        SwbTestClient a = SwbTestClient.connect("127.0.0.1", port, "127.0.0.2");
        a.hello("devA");
        SwbTestClient b = SwbTestClient.connect("127.0.0.1", port, "127.0.0.3");
        b.hello("devB");
        assertEquals(a.localAddress(), gw.clientInfo("devA").get("remote").asText());
        assertEquals(b.localAddress(), gw.clientInfo("devB").get("remote").asText());

        SwbTestClient again = SwbTestClient.connect("127.0.0.1", port, "127.0.0.2");
        again.send("HELLO devA2");
        again.expectLine("BYE 429 too many connections from your address");
        again.expectEof();
        gw.assertRefusals("per_ip_limit", 1);

        assertEquals(200, gw.api().post("/v1/clients/devB/messages", "through the proxy").status());
        assertEquals("through the proxy", new String(b.readMsg().payload(), java.nio.charset.StandardCharsets.UTF_8));
        a.close();
        b.close();
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    /** The gateway's and proxy's test certificate or key ({@code /tls/NAME} in their test jars) as a file. */
    private java.nio.file.Path testFile(String name) throws java.io.IOException {
        java.nio.file.Path f = dir.resolve(name);
        try (java.io.InputStream in = getClass().getResourceAsStream("/tls/" + name)) {
            java.nio.file.Files.copy(in, f);
        }
        return f;
    }

    @Test
    void theJavaClientSpeaksTlsToTheProxyInFrontOfTheGateway() throws Exception {
        gw.start();
        java.nio.file.Path cert = testFile("cert.pem");
        java.nio.file.Path key = testFile("key.pem");
        int port = startProxy(r -> {
            r.tlsCert = cert;
            r.tlsKey = key;
        });
        java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
        try (io.switchboard.client.SwitchboardClient c = io.switchboard.client.SwitchboardClient.builder()
                .host("127.0.0.1").port(port).clientId("secure").tlsTrusting(cert)
                .listener(new io.switchboard.client.SwitchboardListener() {
                    @Override
                    public void onMessage(long seq, byte[] payload) {
                        got.add(new String(payload, java.nio.charset.StandardCharsets.UTF_8));
                    }
                }).build()) {
            c.connect().get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(200, gw.api().post("/v1/clients/secure/messages?ttl=60", "over TLS").status());
            assertEquals("over TLS", got.poll(10, java.util.concurrent.TimeUnit.SECONDS));
        }
    }
}
