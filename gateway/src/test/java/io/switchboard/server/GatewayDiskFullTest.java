package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A full disk under the store (a 1 MiB tmpfs, so this needs root, as CI has): stored pushes that cannot be written
 * are answered 503 naming the cause and counted; the gateway keeps serving (pushes without a ttl still work); every
 * push answered 200 is still delivered; and once clients acknowledge, the freed space takes stored pushes again.
 */
@Timeout(60)
class GatewayDiskFullTest {
    private final GatewayFixture gw = new GatewayFixture();
    private Path mount;

    @BeforeEach
    void mountSmallDisk() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        mount = Files.createDirectories(gw.dataDir.resolve("small"));
        assertEquals(0, run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.toString()), "mount a tmpfs");
        gw.config.dataDir = mount.resolve("data").toString();
        gw.config.maxStoreBytes = 1L << 30; // the disk fills before this bound: that is the point
        gw.config.maxQueuedBytesPerClient = 16L << 20;
    }

    @AfterEach
    void unmount() throws Exception {
        gw.close(); // also tries to delete the directory: umount first would leave the files on the tmpfs only
        if (mount != null) {
            run("umount", "-l", mount.toString());
        }
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        return p.waitFor(20, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    /** Stored pushes of 60 KB to {@code a} until one is refused: that answer, and how many were accepted before. */
    private record Filled(ApiClient.Response refused, int accepted) {
    }

    private Filled fillTheDisk() throws Exception {
        String payload = "x".repeat(60_000);
        int accepted = 0;
        ApiClient.Response refused = null;
        for (int i = 0; i < 100 && refused == null; i++) {
            ApiClient.Response r = gw.api().post("/v1/clients/a/messages?ttl=3600", payload);
            if (r.status() == 200) {
                accepted++;
            } else {
                refused = r;
            }
        }
        assertTrue(accepted >= 5 && accepted < 18, accepted + " accepted on a 1 MiB disk");
        return new Filled(refused, accepted);
    }

    /**
     * Client {@code a} reads every message stored for it and acks; the refused one is not among them (answered 503,
     * it was taken back: the backend sends it again).
     */
    private void readAndAcknowledge(int accepted) throws Exception {
        SwbTestClient a = gw.hello("a");
        for (int seq = 1; seq <= accepted; seq++) {
            assertEquals(seq, a.readMsg().seq());
        }
        a.ack(accepted);
        a.sync(); // nothing more: not the refused one
    }

    private void awaitStoredPushesTakenAgain() {
        GatewayFixture.await(() -> {
            try {
                return gw.api().post("/v1/clients/c/messages?ttl=3600", "again").status() == 200;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "a stored push accepted once space is free");
    }

    @Test
    void aFullDiskIsAnswered503AndCountedAndTheGatewayKeepsServing() throws Exception {
        gw.start();
        Filled filled = fillTheDisk();
        int accepted = filled.accepted();
        ApiClient.Response refused = filled.refused();
        assertEquals(503, refused.status(), refused.body());
        assertTrue(refused.json().get("error").asText().contains("message store could not keep"), refused.body());
        JsonNode stats = gw.stats();
        assertTrue(stats.path("store").path("failures_total").asLong() >= 1, stats.toString());
        assertTrue(stats.path("refusals").path("store_failed").asLong() >= 1, stats.toString());
        String metrics = gw.api().get("/metrics").body();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("switchboard_store_failures_total ")
                && !l.endsWith(" 0")), metrics);

        SwbTestClient b = gw.hello("b");
        assertEquals(404, gw.api().post("/v1/clients/zzz/messages?ttl=0", "live").status());
        assertEquals(200, gw.api().post("/v1/clients/b/messages?ttl=0", "live").status(), "ttl 0 needs no disk");
        assertEquals("live", b.readMsg().text());

        // Every push answered 200 is delivered (in order, with its seq), and the refused one not: its 503 tells the
        // backend to retry, and a copy kept here too would be a duplicate for every retry.
        readAndAcknowledge(accepted);
        // Acknowledged: the old segments are dropped, and the store takes stored pushes again.
        awaitStoredPushesTakenAgain();
        assertEquals(200, gw.api().get("/healthz").status());
    }

    /** Someone else takes the rest of the disk: the store cannot open a segment, not even for an ACK's record. */
    private void fillTheRest() {
        fillTheRest("filler");
    }

    private void fillTheRest(String file) {
        try (var out = Files.newOutputStream(mount.resolve(file))) {
            byte[] page = new byte[4096];
            for (int i = 0; i < 1024; i++) {
                out.write(page);
            }
        } catch (IOException full) {
            // as intended
        }
    }

    @Test
    void aGatewayRestartedOnAFullDiskStartsDeliversWhatItKeptAndRefusesStoredPushesUntilThereIsSpace()
            throws Exception {
        gw.start();
        Filled filled = fillTheDisk();
        fillTheRest();
        gw.restart(); // a crash, a deploy: it failed to start here ("cannot ... start a segment"), for as long as
                      // the disk stayed full, with everything kept on it undelivered
        // Its recovery may have freed a page (a torn record cut off the newest segment): taken again, so the disk
        // stays full whichever way the last process stopped (else the next push could find room: seen once, in a
        // full-suite run).
        fillTheRest("filler-after-restart");
        assertEquals(200, gw.api().get("/healthz").status());
        assertEquals(503, gw.api().post("/v1/clients/c/messages?ttl=3600", "x").status(), "no room for it");
        SwbTestClient b = gw.hello("b");
        assertEquals(200, gw.api().post("/v1/clients/b/messages?ttl=0", "live").status(), "ttl 0 needs no disk");
        assertEquals("live", b.readMsg().text());
        SwbTestClient a = gw.hello("a"); // what was kept before the restart is delivered (the refused one was not)
        for (int seq = 1; seq <= filled.accepted(); seq++) {
            assertEquals(seq, a.readMsg().seq());
        }
        a.ack(filled.accepted());
        a.sync();
        awaitStoredPushesTakenAgain(); // the acknowledged segments are deleted: space again
    }

    @Test
    void aDiskTooFullForEvenANewSegmentIsFreedByDeletingWhatTheAcknowledgementsEnded() throws Exception {
        gw.start();
        Filled filled = fillTheDisk();
        assertEquals(503, filled.refused().status(), filled.refused().body());
        fillTheRest();
        assertEquals(503, gw.api().post("/v1/clients/c/messages?ttl=3600", "x").status(), "nothing fits now");
        readAndAcknowledge(filled.accepted());
        // The acknowledged messages' segments are deleted although no segment can be opened: that frees the disk.
        awaitStoredPushesTakenAgain();
    }
}
