package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.cluster.redis.RedisProcessAccess;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server process taken for dead whose node a new process took over (the lease holds another process): it sends its
 * clients away and exits 1 with one line saying why, leaving the lease to the new process.
 */
@Timeout(90)
class ClusterNodeReplacedTest {
    @Test
    void shouldDrainAndExit1WhenAnotherProcessHoldsItsNodesLease() throws Exception {
        var lettuce = io.lettuce.core.RedisClient.create();
        try (var redis = RedisProcessAccess.start();
                var r = lettuce.connect(io.lettuce.core.RedisURI.create(redis.uri()));
                ServerProcess z = ServerProcess.start("", List.of("-Xmx256m"), "--cluster", redis.uri(), "--node",
                        "z", "--cluster-timeout", "500", "--drain-period", "1")) {
            SwbTestClient client = SwbTestClient.connect("127.0.0.1", z.port(), null);
            client.hello("on-z");
            // The new process of z: its lease (the old one's would be refreshed within 2 s).
            r.sync().set("swb:{nodes}:lease:z", "new-process-of-z", io.lettuce.core.SetArgs.Builder.px(60_000));

            assertEquals(1, z.exitCode(30), z.output());
            assertTrue(client.readLine().startsWith("BYE 503 draining"), "its client was sent away");
            assertTrue(z.output().contains("switchboard server: another process (new-process-of-z) holds node z's "
                    + "lease"), z.output());
            assertTrue(z.output().contains("; drained, exiting 1"), z.output());
            assertEquals("new-process-of-z", r.sync().get("swb:{nodes}:lease:z"),
                    "the old process left the lease to the new one");
        } finally {
            lettuce.shutdown();
        }
    }
}
