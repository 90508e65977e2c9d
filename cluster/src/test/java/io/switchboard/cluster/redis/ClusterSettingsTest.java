package io.switchboard.cluster.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.server.GatewayFixture;
import io.switchboard.server.SwbTestClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What an operator sees when the cluster settings are right and when they are not: one line, no stack trace. */
@Timeout(60)
class ClusterSettingsTest {
    @Test
    void shouldJoinARedisThatWantsAPasswordFromThePasswordFile() throws Exception {
        Path file = Files.createTempFile("swb-redis-password", ".txt");
        Files.writeString(file, "s3cret-for-the-test\n");
        try (RedisProcess redis = RedisProcess.start("--requirepass", "s3cret-for-the-test");
             GatewayFixture gw = new GatewayFixture()) {
            gw.config.cluster = redis.uri();
            gw.config.nodeName = "pw";
            gw.config.clusterPasswordFile = file.toString();
            gw.start();
            SwbTestClient c = gw.hello("with-password");
            assertEquals(200, gw.push("with-password", "ok").status());
            assertEquals("ok", c.readMsg().text());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void shouldRefuseToStartWithOneLineWhenThePasswordIsWrong() throws Exception {
        Path file = Files.createTempFile("swb-redis-password", ".txt");
        Files.writeString(file, "not-the-password\n");
        try (RedisProcess redis = RedisProcess.start("--requirepass", "s3cret-for-the-test");
             GatewayFixture gw = new GatewayFixture()) {
            gw.config.cluster = redis.uri();
            gw.config.nodeName = "pw";
            gw.config.clusterPasswordFile = file.toString();
            IllegalStateException e = assertThrows(IllegalStateException.class, gw::start);
            assertTrue(e.getMessage().startsWith("--cluster redis://127.0.0.1:" + redis.port + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("WRONGPASS") || e.getMessage().contains("invalid"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void shouldJoinARedisOverTlsTrustingTheGivenCertificate() throws Exception {
        Path dir = Files.createTempDirectory("swb-redis-tls");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        for (Path p : new Path[] {cert, key}) {
            try (var in = ClusterSettingsTest.class.getResourceAsStream("/tls/" + p.getFileName())) {
                Files.copy(in, p);
            }
        }
        int tlsPort;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            tlsPort = s.getLocalPort();
        }
        try (RedisProcess redis = RedisProcess.start("--tls-port", String.valueOf(tlsPort), "--tls-cert-file",
                cert.toString(), "--tls-key-file", key.toString(), "--tls-auth-clients", "no");
             GatewayFixture gw = new GatewayFixture()) {
            gw.config.cluster = "rediss://127.0.0.1:" + tlsPort;
            gw.config.nodeName = "tls";
            gw.config.clusterTlsCa = cert.toString();
            gw.start();
            SwbTestClient c = gw.hello("over-tls");
            assertEquals(200, gw.api().post("/v1/clients/over-tls/messages?ttl=60", "kept").status());
            assertEquals("kept", c.readMsg().text());
        }
    }

    @Test
    void shouldRefuseToStartWhenRedisIsNotThere() throws Exception {
        try (GatewayFixture gw = new GatewayFixture()) {
            gw.config.cluster = "redis://127.0.0.1:1";
            gw.config.nodeName = "nowhere";
            IllegalStateException e = assertThrows(IllegalStateException.class, gw::start);
            assertTrue(e.getMessage().startsWith("--cluster redis://127.0.0.1:1: "), e.getMessage());
        }
    }

    @Test
    void shouldRefuseASecondLiveNodeOfTheSameName() throws Exception {
        try (RedisProcess redis = RedisProcess.start(); GatewayFixture first = new GatewayFixture();
             GatewayFixture second = new GatewayFixture()) {
            first.config.cluster = redis.uri();
            first.config.nodeName = "twin";
            first.start();
            second.config.cluster = redis.uri();
            second.config.nodeName = "twin";
            IllegalStateException e = assertThrows(IllegalStateException.class, second::start);
            assertTrue(e.getMessage().contains("node twin is alive in the cluster already"), e.getMessage());
        }
    }
}
