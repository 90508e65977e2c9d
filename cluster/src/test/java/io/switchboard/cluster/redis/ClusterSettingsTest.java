package io.switchboard.cluster.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.server.FreePorts;
import io.switchboard.server.GatewayFixture;
import io.switchboard.server.SwbTestClient;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
            assertFalse(e.getMessage().contains(RedisCluster.NOT_STARTED_WITHOUT_REDIS), "Redis answered: "
                    + e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void shouldRefuseToStartWithOneLineWhenRedisIsNotThere() throws Exception {
        try (Socket nothingListens = FreePorts.refusing(); GatewayFixture gw = new GatewayFixture()) {
            int nothing = nothingListens.getLocalPort();
            gw.config.cluster = "redis://127.0.0.1:" + nothing;
            gw.config.nodeName = "alone";
            IllegalStateException e = assertThrows(IllegalStateException.class, gw::start);
            assertTrue(e.getMessage().startsWith("--cluster redis://127.0.0.1:" + nothing + ": "), e.getMessage());
            assertTrue(e.getMessage().endsWith(RedisCluster.NOT_STARTED_WITHOUT_REDIS), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    @Test
    void shouldSayToStartAgainWhenRedisWentAwayWhileTheNodeJoined() {
        // Redis restarting while a node starts: a supervisor's restart then succeeds (seen in NoLossUnderFaultsTest).
        for (String gone : java.util.List.of("Connection disconnected", "Connection closed prematurely",
                "Currently not connected. Commands are rejected.", "LOADING Redis is loading the dataset in memory")) {
            assertEquals(RedisCluster.NOT_STARTED_WITHOUT_REDIS, RedisCluster.unreachableHint(
                    new io.lettuce.core.RedisException(gone)), gone);
        }
        assertEquals("", RedisCluster.unreachableHint(new io.lettuce.core.RedisCommandExecutionException(
                "WRONGPASS invalid username-password pair")), "Redis answered");
    }

    @Test
    void shouldSayTheReasonOnceWhenItsCauseRepeatsItUnderAClassName() {
        var inner = new io.lettuce.core.RedisException("Currently not connected. Commands are rejected.");
        var outer = new io.lettuce.core.RedisException("Currently not connected. Commands are rejected.",
                new java.util.concurrent.CompletionException(inner));
        assertEquals("Currently not connected. Commands are rejected.", RedisCluster.reason(outer));
        assertEquals("Unable to connect to 127.0.0.1:1: Connection refused", RedisCluster.reason(
                new io.lettuce.core.RedisConnectionException("Unable to connect to 127.0.0.1:1",
                        new java.net.ConnectException("Connection refused"))));
    }

    @Test
    void shouldJoinARedisOverTlsTrustingTheGivenCertificate() throws Exception {
        Path cert = redisTlsFiles();
        int tlsPort = FreePorts.belowTheEphemeralRange();
        try (RedisProcess redis = startRedisOverTls(cert, tlsPort);
             GatewayFixture gw = new GatewayFixture()) {
            joinOverTls(gw, "tls", tlsPort, cert);
            SwbTestClient c = gw.hello("over-tls");
            assertEquals(200, gw.api().post("/v1/clients/over-tls/messages?ttl=60", "kept").status());
            assertEquals("kept", c.readMsg().text());
        }
    }

    @Test
    void shouldCarryPushesBetweenNodesOnLinksWithTlsWhenRedisIsReachedOverTls() throws Exception {
        Path cert = redisTlsFiles();
        int tlsPort = FreePorts.belowTheEphemeralRange();
        try (RedisProcess redis = startRedisOverTls(cert, tlsPort);
             GatewayFixture a = new GatewayFixture();
             GatewayFixture b = new GatewayFixture()) {
            joinOverTls(a, "a", tlsPort, cert);
            joinOverTls(b, "b", tlsPort, cert);
            SwbTestClient alice = a.hello("alice");
            ClusterTest.pushUntilOnALink(b, "alice", alice);
            long overLinks = ClusterTest.clusterStat(b, "requests_over_links");
            for (int i = 0; i < 5; i++) {
                assertEquals(200, b.push("alice", "linked " + i).status());
                assertEquals("linked " + i, alice.readMsg().text());
            }
            assertEquals(overLinks + 5, ClusterTest.clusterStat(b, "requests_over_links"), "on the link, not through Redis");

            // What a announces: its link address and its certificate's hash; the port speaks TLS, not the hello.
            String announced;
            var client = io.lettuce.core.RedisClient.create(io.lettuce.core.RedisURI.builder()
                    .withHost("127.0.0.1").withPort(tlsPort).withSsl(true).withVerifyPeer(false).build());
            try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
                announced = new String(c.sync().hget(Keys.LINKS, "a".getBytes(StandardCharsets.UTF_8)),
                        StandardCharsets.UTF_8);
            } finally {
                client.shutdown();
            }
            assertTrue(announced.matches("127\\.0\\.0\\.1:\\d+ tls:[0-9a-f]{64}"), announced);
            int linkPort = Integer.parseInt(announced.substring(announced.indexOf(':') + 1, announced.indexOf(' ')));
            try (Socket plain = new Socket("127.0.0.1", linkPort)) {
                plain.setSoTimeout(1000);
                plain.getOutputStream().write("not a TLS hello\n".getBytes(StandardCharsets.US_ASCII));
                byte[] got = plain.getInputStream().readNBytes(64);
                assertFalse(new String(got, StandardCharsets.ISO_8859_1).contains("SWBL1"),
                        "the link's hello went out in clear");
            } catch (java.net.SocketTimeoutException | java.net.SocketException nothingInClear) {
                // closed or silent: nothing in clear either way
            }
        }
    }

    /** Redis's certificate and key from the test resources, in a new directory; returns the certificate. */
    private static Path redisTlsFiles() throws IOException {
        Path dir = Files.createTempDirectory("swb-redis-tls");
        for (String name : new String[] {"cert.pem", "key.pem"}) {
            try (var in = ClusterSettingsTest.class.getResourceAsStream("/tls/" + name)) {
                Files.copy(in, dir.resolve(name));
            }
        }
        return dir.resolve("cert.pem");
    }

    private static RedisProcess startRedisOverTls(Path cert, int tlsPort) throws IOException {
        return RedisProcess.start("--tls-port", String.valueOf(tlsPort), "--tls-cert-file", cert.toString(),
                "--tls-key-file", cert.resolveSibling("key.pem").toString(), "--tls-auth-clients", "no");
    }

    private static void joinOverTls(GatewayFixture gw, String node, int tlsPort, Path cert) throws Exception {
        gw.config.cluster = "rediss://127.0.0.1:" + tlsPort;
        gw.config.nodeName = node;
        gw.config.clusterTlsCa = cert.toString();
        gw.config.mqttPort = 0;
        gw.start();
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
            assertFalse(e.getMessage().contains(RedisCluster.NOT_STARTED_WITHOUT_REDIS), "Redis answered");
        }
    }

    @Test
    void aRedisThatEvictsKeysWhenFullIsToldOfFromItsOwnInfo() throws Exception {
        try (RedisProcess redis = RedisProcess.start()) {
            io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.uri());
            try (var connection = client.connect()) {
                var sync = connection.sync();
                assertEquals(null, RedisCluster.evictionProblem(sync.info("memory")), "no maxmemory: nothing evicted");
                sync.configSet("maxmemory", "100mb");
                sync.configSet("maxmemory-policy", "volatile-lru"); // managed Redis's usual default
                String problem = RedisCluster.evictionProblem(sync.info("memory"));
                assertTrue(problem != null && problem.contains("volatile-lru") && problem.contains("noeviction"),
                        String.valueOf(problem));
                sync.configSet("maxmemory-policy", "noeviction");
                assertEquals(null, RedisCluster.evictionProblem(sync.info("memory")));
            } finally {
                client.shutdown();
            }
        }
    }
}
