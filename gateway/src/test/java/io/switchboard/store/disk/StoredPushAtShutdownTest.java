package io.switchboard.store.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.api.RawHttp;
import io.switchboard.server.GatewayFixture;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A stored push the API took just before the server stops is answered, not cut off with its connection. */
@Timeout(60)
class StoredPushAtShutdownTest {
    private final GatewayFixture gw = new GatewayFixture();
    private final CountDownLatch disk = new CountDownLatch(1);

    @AfterEach
    void close() {
        StoreWriter.stalledForTests = null;
        disk.countDown();
        gw.close();
    }

    @Test
    void aStoredPushWaitingForTheDiskWhenTheServerStopsIsAnswered() throws Exception {
        // The disk stalls from the start (the writer checks before it waits for work): the push's answer waits.
        StoreWriter.stalledForTests = disk;
        gw.start();
        try (RawHttp c = RawHttp.connect(gw.server().apiPort());
             RawHttp idle = RawHttp.connect(gw.server().apiPort())) {
            idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, idle.read().status()); // taken by the API, and now idle between requests
            c.send("POST /v1/clients/late/messages?ttl=600 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nlast");
            GatewayFixture.await(() -> ((DiskStore) gw.server().store()).waitingForWriter() >= 1, "the push is taken");
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(gw.server()::close);
            // The stop tells the connections to finish, one after the other, each on its loop (the push's then
            // answers when its message is written): the idle one, with nothing to answer, is closed at once.
            assertTrue(idle.atEof(), "the stop closed the idle connection");
            disk.countDown();
            RawHttp.Answer a = c.read();
            assertEquals(200, a.status(), a.body());
            assertTrue(a.body().contains("\"seq\":1"), a.body());
            stopping.join();
        }
    }

    @Test
    void aStoredPushWaitingLongerThanAFewSecondsForTheDiskWhenTheServerStopsIsAnswered() throws Exception {
        StoreWriter.stalledForTests = disk;
        gw.start();
        try (RawHttp c = RawHttp.connect(gw.server().apiPort())) {
            c.send("POST /v1/clients/late/messages?ttl=600 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nlast");
            GatewayFixture.await(() -> ((DiskStore) gw.server().store()).waitingForWriter() >= 1, "the push is taken");
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(gw.server()::close);
            Thread.sleep(4_000); // the disk stalls 4 s: the API waited 3 s, then cut the connection (the push kept)
            disk.countDown();
            RawHttp.Answer a = c.read();
            assertEquals(200, a.status(), a.body());
            stopping.join();
        }
    }
}
