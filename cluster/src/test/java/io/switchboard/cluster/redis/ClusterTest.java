package io.switchboard.cluster.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.api.RawHttp;
import io.switchboard.server.ApiClient;
import io.switchboard.server.GatewayFixture;
import io.switchboard.server.MqttTestClient;
import io.switchboard.server.SwbTestClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two gateways in one namespace of clients on a real Redis: a push through either reaches the client wherever it is
 * connected, stored messages follow the client to the other node, a HELLO on one node takes the client over from the
 * other, and a Redis outage is a quick 503 that ends by itself.
 */
@Timeout(60)
class ClusterTest {
    private RedisProcess redis;
    private final GatewayFixture a = new GatewayFixture();
    private final GatewayFixture b = new GatewayFixture();

    @BeforeEach
    void startCluster() throws Exception {
        redis = RedisProcess.start();
        asNode(a, "a");
        asNode(b, "b");
        a.start();
        b.start();
    }

    /** {@code gw} set up as node {@code name} of this test's cluster (not started). */
    private GatewayFixture asNode(GatewayFixture gw, String name) {
        gw.config.cluster = redis.uri();
        gw.config.clusterTimeoutMs = 500;
        gw.config.mqttPort = 0;
        gw.config.nodeName = name;
        return gw;
    }

    /**
     * Pushes to {@code clientId} through {@code from} (each received by {@code client}) until one goes over a direct
     * link, at most 40, 100 ms apart (a link is opened in the background), and asserts one did.
     */
    private static void pushUntilOverALink(GatewayFixture from, String clientId, SwbTestClient client, String what)
            throws Exception {
        long linkedBefore = clusterStat(from, "requests_over_links");
        for (int i = 0; i < 40 && clusterStat(from, "requests_over_links") == linkedBefore; i++) {
            ApiClient.Response r = from.push(clientId, "after " + i);
            assertEquals(200, r.status(), r.body());
            assertEquals("after " + i, client.readMsg().text());
            Thread.sleep(100);
        }
        assertTrue(clusterStat(from, "requests_over_links") > linkedBefore, what);
    }

    @AfterEach
    void stop() {
        a.close();
        b.close();
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void shouldDeliverAPushMadeThroughTheOtherNode() throws Exception {
        SwbTestClient alice = a.hello("alice");
        ApiClient.Response r = b.push("alice", "hello from b");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.json().get("delivered").asBoolean(), r.body());
        SwbTestClient.Msg m = alice.readMsg();
        assertEquals("hello from b", m.text());
        assertEquals(r.json().get("seq").asLong(), m.seq());
        // And its own node's pushes continue the same seqs.
        assertEquals(m.seq() + 1, a.push("alice", "hello from a").json().get("seq").asLong());
        assertEquals("hello from a", alice.readMsg().text());
    }

    @Test
    void shouldCarryRoutedPushesOnADirectLinkWithoutRedisAndFallBackToRedisWhenTheLinkBreaks() throws Exception {
        SwbTestClient alice = a.hello("alice");
        pushUntilOnALink(b, "alice", alice); // then the API connection's pushes take its loop's link
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            String inboxA = new String(Keys.inbox("a"), java.nio.charset.StandardCharsets.UTF_8);
            String inboxB = new String(Keys.inbox("b"), java.nio.charset.StandardCharsets.UTF_8);
            String lastA = lastGeneratedId(c, inboxA);
            String lastB = lastGeneratedId(c, inboxB);
            long overLinks = clusterStat(b, "requests_over_links");
            for (int i = 0; i < 20; i++) {
                ApiClient.Response r = b.push("alice", "linked " + i);
                assertEquals(200, r.status(), r.body());
                assertTrue(r.json().get("delivered").asBoolean(), r.body());
                assertEquals("linked " + i, alice.readMsg().text());
            }
            assertEquals(overLinks + 20, clusterStat(b, "requests_over_links"));
            assertEquals(lastA, lastGeneratedId(c, inboxA), "a push on the link went through a's inbox stream");
            assertEquals(lastB, lastGeneratedId(c, inboxB), "an answer on the link went through b's inbox stream");

            // a's process ends and another takes its place: b's link to the old one breaks; pushes go on (through
            // Redis until b links to the new process, then on the new link).
            a.close();
            GatewayFixture a2 = asNode(new GatewayFixture(), "a");
            a2.start();
            try {
                SwbTestClient again = a2.hello("alice");
                GatewayFixture.await(() -> clusterStat(b, "link_failures") >= 1, "b saw its link to a end");
                pushUntilOverALink(b, "alice", again, "no link to a's new process");
            } finally {
                a2.close();
            }
        } finally {
            client.shutdown();
        }
    }

    /**
     * Pushes through {@code via}'s API (one keep-alive connection) to {@code client} until one went on a direct
     * link: the first ones open {@code via}'s links (one per loop that makes a request: the script's answer is
     * read on one, the API connection on another) and go through the inbox streams meanwhile.
     */
    static void pushUntilOnALink(GatewayFixture via, String clientId, SwbTestClient client) throws Exception {
        long before = clusterStat(via, "requests_over_links");
        for (int i = 0; i < 40 && clusterStat(via, "requests_over_links") == before; i++) {
            assertEquals(200, via.push(clientId, "early " + i).status());
            assertEquals("early " + i, client.readMsg().text());
            Thread.sleep(50);
        }
        assertTrue(clusterStat(via, "links_up") >= 1, "no link up");
    }

    @Test
    void shouldOpenALinkPerLoopOfTheNodeThatMakesTheRequests() throws Exception {
        // A request goes on the link of the loop it is made on (its answer is read there, where the API connection
        // waits for it): pushes through b's API on connections spread over b's two loops open two links to a.
        b.close();
        b.config.eventLoops = 2;
        b.config.port = 0;
        b.config.apiPort = 0;
        b.start();
        SwbTestClient alice = a.hello("alice");
        for (int round = 0; round < 50 && clusterStat(b, "links_up") < 2; round++) {
            for (int c = 0; c < 4; c++) { // connections accepted one after another land on b's loops in turn
                try (RawHttp api = RawHttp.connect(b.server().apiPort())) {
                    String body = "r" + round + "c" + c;
                    api.send("POST /v1/clients/alice/messages HTTP/1.1\r\nHost: b\r\nContent-Length: "
                            + body.length() + "\r\n\r\n" + body);
                    assertEquals(200, api.read().status());
                    SwbTestClient.Msg m = alice.readMsg();
                    assertEquals(body, m.text());
                    alice.ack(m.seq()); // her window of unacknowledged messages stays open
                }
            }
            Thread.sleep(50);
        }
        assertEquals(2, clusterStat(b, "links_up"), "one link to a per loop of b");
        assertTrue(clusterStat(b, "requests_over_links") > 0);
    }

    /** The id of the last entry ever added to {@code stream} (trimming does not change it). */
    private static String lastGeneratedId(io.lettuce.core.api.StatefulRedisConnection<String, String> c,
                                          String stream) {
        List<Object> info = c.sync().xinfoStream(stream);
        for (int i = 0; i + 1 < info.size(); i += 2) {
            if ("last-generated-id".equals(String.valueOf(info.get(i)))) {
                return String.valueOf(info.get(i + 1));
            }
        }
        throw new AssertionError("no last-generated-id in " + info);
    }

    @Test
    void shouldTrimTheInboxStreamsOfWhatWasRead() throws Exception {
        b.close();
        b.config.clusterLink = "off"; // every routed push and its answer go through the streams
        b.config.port = 0;
        b.config.apiPort = 0;
        b.start();
        SwbTestClient alice = a.hello("alice");
        int pushes = 600;
        for (int i = 0; i < pushes; i++) {
            assertEquals(200, b.push("alice", "m" + i).status());
            alice.ack(alice.readMsg().seq());
        }
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            for (String node : new String[] {"a", "b"}) {
                String inbox = new String(Keys.inbox(node), java.nio.charset.StandardCharsets.UTF_8);
                // Approximate trimming drops whole stream nodes (100 entries each by default): what is left is
                // at most the node holding the last entry read.
                GatewayFixture.await(() -> c.sync().xlen(inbox) <= 100, node + "'s inbox keeps no more than one "
                        + "stream node of what it read");
            }
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldKeepTheOrderOfPipelinedPushesWhileTheLinkComesUp() throws Exception {
        // Pushes in flight all along, in bursts, until some went on the link (the first ones go through the
        // streams while it is opened): those in flight at the switch must not overtake each other.
        pushPipelinedAndReadInOrder(() -> clusterStat(b, "requests_over_links") > 0);
        long onLinks = clusterStat(b, "requests_over_links");
        assertTrue(onLinks > 0 && onLinks < clusterStat(b, "routed_requests"),
                "the pushes did not straddle the switch to the link: " + onLinks + " on it");
    }

    @Test
    void shouldKeepTheOrderOfPipelinedPushesWhenTheOwnerIsFirstFoundByScript() throws Exception {
        // Without links: the first pushes find the owner with the script, the later ones go straight to it once
        // the first answer named it; a later one must not overtake one still on the script's way.
        b.close();
        b.config.clusterLink = "off";
        b.config.port = 0;
        b.config.apiPort = 0;
        b.start();
        pushPipelinedAndReadInOrder(() -> true);
        assertEquals(0, clusterStat(b, "requests_over_links"));
        assertTrue(clusterStat(b, "routed_requests") > 0);
    }

    /**
     * Pipelines pushes to alice (held by a) through b's API, 20 at a time every 2 ms, until {@code enough} holds
     * and 400 more were sent; alice must get every push answered 200, and what she gets in the order sent. On a
     * loaded machine a push may be refused: 503 (the push script past the tests' 500 ms command timeout: not
     * delivered; a silent owner: maybe delivered) or 429 (alice's queue full, as she reads only at the end): what
     * comes of those must come in order too.
     */
    private void pushPipelinedAndReadInOrder(java.util.function.BooleanSupplier enough) throws Exception {
        SwbTestClient alice = a.hello("alice");
        int sent = 0;
        List<Integer> statuses = java.util.Collections.synchronizedList(new ArrayList<>());
        try (RawHttp api = RawHttp.connect(b.server().apiPort())) {
            Thread answers = new Thread(() -> { // the answers, in order, read so that the API never waits on us
                try {
                    while (true) {
                        statuses.add(api.read().status());
                    }
                } catch (IOException closed) {
                    // the test ended
                }
            });
            answers.setDaemon(true);
            answers.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            int enoughAt = -1;
            while (sent < 5_000 && System.nanoTime() < deadline && (enoughAt < 0 || sent < enoughAt + 400)) {
                StringBuilder burst = new StringBuilder();
                for (int k = 0; k < 20; k++, sent++) {
                    String body = "m" + sent;
                    burst.append("POST /v1/clients/alice/messages HTTP/1.1\r\nHost: b\r\nContent-Length: ")
                            .append(body.length()).append("\r\n\r\n").append(body);
                }
                api.send(burst.toString());
                Thread.sleep(2);
                if (enoughAt < 0 && sent % 100 == 0 && enough.getAsBoolean()) {
                    enoughAt = sent;
                }
            }
            int all = sent;
            GatewayFixture.await(() -> statuses.size() == all, "an answer to every push");
        }
        java.util.BitSet accepted = new java.util.BitSet();
        for (int i = 0; i < sent; i++) {
            int status = statuses.get(i);
            assertTrue(status == 200 || status == 503 || status == 429, "push m" + i + " answered " + status);
            if (status == 200) {
                accepted.set(i);
            }
        }
        assertTrue(accepted.cardinality() >= 100, accepted.cardinality() + " of " + sent + " answered 200");
        int last = -1;
        while (accepted.nextSetBit(last + 1) >= 0) {
            SwbTestClient.Msg m = alice.readMsg();
            int i = Integer.parseInt(m.text().substring(1));
            assertTrue(i > last, "pushes through one node out of order: m" + i + " after m" + last);
            int missed = accepted.nextSetBit(last + 1);
            assertTrue(missed == i || !accepted.get(i) && missed > i,
                    "m" + missed + ", answered 200, did not come before m" + i);
            last = i;
            alice.ack(m.seq());
        }
    }

    @Test
    void shouldTakeNoRequestOnALinkFromAPeerThatCannotProveTheSecret() throws Exception {
        SwbTestClient alice = a.hello("alice");
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        String address;
        try (var c = client.connect()) {
            address = c.sync().hget(new String(Keys.LINKS, java.nio.charset.StandardCharsets.UTF_8), "a");
        } finally {
            client.shutdown();
        }
        int colon = address.lastIndexOf(':');
        byte[] push = InboxMessage.encode(new InboxMessage.Push(1, "b", "alice", 0,
                "forged".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        for (byte[] first : new byte[][] {"b\n00".getBytes(java.nio.charset.StandardCharsets.UTF_8), push}) {
            try (java.net.Socket s = new java.net.Socket(address.substring(0, colon),
                    Integer.parseInt(address.substring(colon + 1)))) {
                s.setSoTimeout(5_000);
                var in = new java.io.DataInputStream(s.getInputStream());
                byte[] hello = new byte[in.readInt()];
                in.readFully(hello);
                assertTrue(new String(hello, java.nio.charset.StandardCharsets.UTF_8).startsWith("SWBL1\na\n"));
                var out = new java.io.DataOutputStream(s.getOutputStream());
                out.writeInt(first.length); // a wrong proof, or a request with none
                out.write(first);
                out.flush();
                byte[] answer = new byte[in.readInt()];
                in.readFully(answer);
                assertEquals("bad proof", new String(answer, java.nio.charset.StandardCharsets.UTF_8));
                assertEquals(-1, in.read(), "the link stayed open");
            }
        }
        assertTrue(alice.silentFor(300), "a forged push was delivered");
        assertEquals(0, clusterStat(a, "routed_in"));
    }

    @Test
    void shouldAnswer404ForAClientConnectedNowhereAndTtlZero() throws Exception {
        ApiClient.Response r = b.push("nobody", "x");
        assertEquals(404, r.status(), r.body());
    }

    @Test
    void shouldKeepAStoredMessageForAnOfflineClientAndDeliverItOnEitherNode() throws Exception {
        ApiClient.Response r = a.api().post("/v1/clients/bob/messages?ttl=60", "kept for bob");
        assertEquals(200, r.status(), r.body());
        assertFalse(r.json().get("delivered").asBoolean(), r.body());
        long seq = r.json().get("seq").asLong();

        SwbTestClient bob = b.hello("bob");
        SwbTestClient.Msg m = bob.readMsg();
        assertEquals(seq, m.seq());
        assertEquals("kept for bob", m.text());
        bob.ack(seq);
        bob.sync();
        bob.leave();
        // Released in Redis, so its ACK (sent before, on the same connection) is done: a claim racing the ACK would
        // be sent the message again (at least once, as documented), which is not what this test is about.
        b.awaitOffline("bob");

        // Acknowledged on b: a's next session of bob gets nothing again, and continues after the seq.
        SwbTestClient again = a.connect();
        assertTrue(again.hello("bob", "resume=0").contains("seq=" + seq), "WELCOME carries the last seq");
        assertTrue(again.silentFor(300), "an acknowledged message was sent again");
        assertEquals(seq + 1, b.push("bob", "next").json().get("seq").asLong());
        assertEquals("next", again.readMsg().text());
    }

    @Test
    void expiredStoredMessagesDoNotCountAgainstAnOfflineClientsQueue() throws Exception {
        GatewayFixture c = asNode(new GatewayFixture(), "c");
        c.config.maxQueuedMessagesPerClient = 3;
        c.start();
        try {
            for (int i = 0; i < 2; i++) {
                ApiClient.Response r = c.api().post("/v1/clients/dora/messages?ttl=1", "short " + i);
                assertEquals(200, r.status(), r.body());
            }
            // Its ttl keeps the list (and the two short ones before it) in Redis.
            assertEquals(200, c.api().post("/v1/clients/dora/messages?ttl=10", "longer").status());
            assertEquals(429, c.api().post("/v1/clients/dora/messages?ttl=60", "while full").status());
            c.clock.advanceSec(2); // the two short ones expired (in the gateways' time, as seqs and expiry are)
            ApiClient.Response r = c.api().post("/v1/clients/dora/messages?ttl=60", "kept");
            assertEquals(200, r.status(), "the expired ones count no more: " + r.body());
            SwbTestClient dora = a.hello("dora");
            assertEquals("longer", dora.readMsg().text());
            assertEquals("kept", dora.readMsg().text());
        } finally {
            c.close();
        }
    }

    @Test
    void anOfflineClientsStoredMessagesAreBoundedInBytesAsInOneProcessAndAcknowledgementsMakeRoom() throws Exception {
        // Only their number was: 1,000 messages of 64 KiB, 64 MB for one client, loaded whole by the node it came
        // back to. --max-queued-bytes bounds them as it bounds a queue in one process.
        GatewayFixture c = asNode(new GatewayFixture(), "c");
        c.config.maxQueuedBytesPerClient = 100 * 1024;
        c.start();
        try {
            String big = "x".repeat(30 * 1024);
            for (int i = 0; i < 3; i++) {
                ApiClient.Response r = c.api().post("/v1/clients/erin/messages?ttl=60", big);
                assertEquals(200, r.status(), r.body());
            }
            assertEquals(429, c.api().post("/v1/clients/erin/messages?ttl=60", big).status(), "past 100 KiB");
            assertEquals(200, c.api().post("/v1/clients/erin/messages?ttl=60", "small").status(), "within it");
            SwbTestClient erin = c.hello("erin");
            long[] seqs = new long[4];
            for (int i = 0; i < 4; i++) {
                seqs[i] = erin.readMsg().seq();
            }
            erin.ack(seqs[1]); // the first two: 60 KiB dropped from Redis, 30 KiB and "small" left
            erin.sync();
            erin.leave();
            c.awaitOffline("erin");
            for (int i = 0; i < 2; i++) {
                ApiClient.Response r = c.api().post("/v1/clients/erin/messages?ttl=60", big);
                assertEquals(200, r.status(), "room again after the acknowledgement: " + r.body());
            }
            assertEquals(429, c.api().post("/v1/clients/erin/messages?ttl=60", big).status(), "and full again");
        } finally {
            c.close();
        }
    }

    @Test
    void shouldSendAStoredMessageOnceItsClientLeftTheNodeThatTookIt() throws Exception {
        SwbTestClient carol = a.hello("carol");
        assertEquals(200, b.push("carol", "while here").status()); // b now remembers carol on a
        assertEquals("while here", carol.readMsg().text());
        carol.leave();
        GatewayFixture.await(() -> a.server().registry().size() == 0, "carol's session left a");
        ApiClient.Response r = b.api().post("/v1/clients/carol/messages?ttl=60", "while away");
        assertEquals(200, r.status(), r.body());
        assertFalse(r.json().get("delivered").asBoolean(), r.body());

        SwbTestClient back = b.hello("carol", "resume=0");
        assertEquals("while away", back.readMsg().text());
    }

    @Test
    void shouldTakeTheClientOverFromTheOtherNode() throws Exception {
        SwbTestClient first = a.hello("dave");
        SwbTestClient second = b.hello("dave");
        assertEquals("BYE 409 taken over", first.readLine());
        first.expectEof();
        GatewayFixture.await(() -> a.server().registry().size() == 0, "dave's old session left a");

        // The old connection's release came after b's claim: it must not have removed b as the owner.
        ApiClient.Response r = a.push("dave", "to the new connection");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.json().get("delivered").asBoolean(), r.body());
        assertEquals("to the new connection", second.readMsg().text());
    }

    @Test
    void aTakeoverNoticeThatCouldNotBeSentIsSentAgainAtTheNextRefresh() throws Exception {
        SwbTestClient first = a.hello("dave");
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var admin = client.connect()) {
            String inboxA = new String(Keys.inbox("a"), java.nio.charset.StandardCharsets.UTF_8);
            boolean aside = admin.sync().exists(inboxA) == 1;
            if (aside) {
                admin.sync().rename(inboxA, inboxA + ":aside");
            }
            admin.sync().set(inboxA, "not a stream"); // the notice's XADD fails (WRONGTYPE)
            b.hello("dave");
            admin.sync().del(inboxA);
            if (aside) {
                admin.sync().rename(inboxA + ":aside", inboxA);
            }
        } finally {
            client.shutdown();
        }
        // Told again at b's first refresh at least NOTICE_AGAIN_AFTER_MS after its claim.
        GatewayFixture.await(() -> a.server().registry().size() == 0, "dave's old session on a was let go");
        assertEquals("BYE 409 taken over", first.readLine());
    }

    @Test
    void aProcessThatFindsItsNodeTakenOverWritesNothingMoreAsTheNode() throws Exception {
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var admin = client.connect()) {
            String links = new String(Keys.LINKS, java.nio.charset.StandardCharsets.UTF_8);
            // Another process holds a's lease now (as after this one was paused past it), and has announced its link.
            admin.sync().set(new String(Keys.lease("a"), java.nio.charset.StandardCharsets.UTF_8), "another-process",
                    io.lettuce.core.SetArgs.Builder.px(60_000));
            admin.sync().hset(links, "a", "the new process's address");
            a.server().cluster().replaced().get(10, java.util.concurrent.TimeUnit.SECONDS);
            Thread.sleep(300);
            assertEquals("the new process's address", admin.sync().hget(links, "a"),
                    "the tick that found it out did not write the node's link address back");
        } finally {
            client.shutdown();
        }
    }

    @Test
    void aNodeAnnouncingItsLinkByHostNameIsLinkedTo() throws Exception {
        GatewayFixture c = asNode(new GatewayFixture(), "c");
        c.config.clusterLink = "localhost:0"; // a name, looked up by the nodes that link to it (off their loops)
        c.start();
        try {
            pushUntilOverALink(a, "carl", c.hello("carl"), "no link to c by its name");
        } finally {
            c.close();
        }
    }

    @Test
    void shouldBroadcastToTheClientsOfEveryNodeOnce() throws Exception {
        SwbTestClient onA = a.hello("xavier");
        SwbTestClient onB = b.hello("yvonne");
        ApiClient.Response r = a.api().post("/v1/broadcast", "to all");
        assertEquals(200, r.status(), r.body());
        assertEquals(2, r.json().get("delivered").asLong(), r.body());
        assertFalse(r.json().has("unconfirmed_nodes"), r.body());
        assertEquals("to all", onA.readMsg().text());
        assertEquals("to all", onB.readMsg().text());
        assertTrue(onA.silentFor(200) && onB.silentFor(200), "a client got the broadcast twice");
    }

    @Test
    void shouldNameANodeThatHoldsItsLeaseButDoesNotAnswerABroadcast() throws Exception {
        SwbTestClient onA = a.hello("xavier");
        SwbTestClient onB = b.hello("yvonne");
        // "ghost" joined and holds its lease, but nothing reads its inbox (a node stuck, or cut off from Redis).
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            c.sync().sadd(new String(Keys.NODES, java.nio.charset.StandardCharsets.UTF_8), "ghost");
            c.sync().set(new String(Keys.lease("ghost"), java.nio.charset.StandardCharsets.UTF_8), "1",
                    io.lettuce.core.SetArgs.Builder.px(60_000));
        } finally {
            client.shutdown();
        }
        ApiClient.Response r = a.api().post("/v1/broadcast", "to all");
        assertEquals(200, r.status(), r.body());
        assertEquals(2, r.json().get("delivered").asLong(), r.body());
        assertEquals("[\"ghost\"]", r.json().get("unconfirmed_nodes").toString(), r.body());
        assertEquals("to all", onA.readMsg().text());
        assertEquals("to all", onB.readMsg().text());
    }

    @Test
    void shouldForgetANodeLongWithoutALeaseAndLeaveNothingBehindOnClose() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        long before = RedisCluster.forgetAfterMs;
        try (var c = client.connect()) {
            var r = c.sync();
            String nodes = new String(Keys.NODES, java.nio.charset.StandardCharsets.UTF_8);
            String online = new String(Keys.ONLINE, java.nio.charset.StandardCharsets.UTF_8);
            String inbox = new String(Keys.inbox("gone"), java.nio.charset.StandardCharsets.UTF_8);
            // "gone" was a node (another name each restart, as orchestrators give) and died without closing.
            r.sadd(nodes, "gone");
            r.hset(online, "gone", "12");
            r.xadd(inbox, java.util.Map.of("k", "a request nobody will read"));
            RedisCluster.forgetAfterMs = 0; // no lease since the first look is long enough here
            long deadline = System.nanoTime() + 10_000_000_000L;
            // Taken off the list first, then its count and inbox, each a command of its own.
            while ((r.sismember(nodes, "gone") || r.hexists(online, "gone") || r.exists(inbox) > 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(r.sismember(nodes, "gone"), "still listed");
            assertFalse(r.hexists(online, "gone"), "its count still published");
            assertEquals(0, r.exists(inbox), "its inbox still kept");
            assertTrue(r.sismember(nodes, "a") && r.sismember(nodes, "b"), "live nodes are kept");

            b.hello("zed");
            assertEquals(200, a.push("zed", "routed through b's inbox").status());
            String inboxB = new String(Keys.inbox("b"), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(1, r.exists(inboxB));
            b.close(); // a node that leaves cleanly removes its own
            assertFalse(r.sismember(nodes, "b"));
            assertFalse(r.hexists(online, "b"));
            assertEquals(0, r.exists(inboxB));
        } finally {
            RedisCluster.forgetAfterMs = before;
            client.shutdown();
        }
    }

    @Test
    void shouldPublishToTheSubscribersOfEveryNode() throws Exception {
        SwbTestClient onA = a.hello("sub-a");
        SwbTestClient onB = b.hello("sub-b");
        SwbTestClient other = b.hello("not-subscribed");
        for (SwbTestClient c : new SwbTestClient[] {onA, onB}) {
            c.send("SUB news");
            c.expectLine("OK SUB news");
        }
        ApiClient.Response r = b.api().post("/v1/topics/news/messages", "headline");
        assertEquals(200, r.status(), r.body());
        assertEquals(2, r.json().get("delivered").asLong(), r.body());
        assertEquals("headline", onA.readMsg().text());
        assertEquals("headline", onB.readMsg().text());
        assertTrue(other.silentFor(200), "a client that did not subscribe got the topic message");
    }

    @Test
    void shouldGroupABatchPerOwnerNodeAndAnswerInRequestOrder() throws Exception {
        SwbTestClient[] onA = new SwbTestClient[5];
        StringBuilder body = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < onA.length; i++) {
            onA[i] = a.hello("batch-" + i);
        }
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < onA.length; i++) {
                body.append("{\"client\":\"batch-").append(i).append("\",\"payload\":\"r").append(round)
                        .append("\"},");
            }
            body.append("{\"client\":\"batch-away\",\"payload\":\"kept").append(round)
                    .append("\",\"ttl\":60},");
        }
        body.append("{\"client\":\"batch-nobody\",\"payload\":\"x\"}]}");
        long requestsBefore = b.stats().get("cluster").get("routed_requests").asLong();

        ApiClient.Response r = b.api().post("/v1/messages", body.toString());
        assertEquals(200, r.status(), r.body());
        var results = r.json().get("results");
        assertEquals(19, results.size(), r.body());
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < onA.length; i++) {
                var one = results.get(round * 6 + i);
                assertEquals("batch-" + i, one.get("client").asText(), r.body());
                assertEquals(200, one.get("status").asInt(), r.body());
                assertTrue(one.get("delivered").asBoolean(), r.body());
            }
            var away = results.get(round * 6 + 5);
            assertEquals(200, away.get("status").asInt(), r.body());
            assertFalse(away.get("delivered").asBoolean(), r.body());
        }
        assertEquals(404, results.get(18).get("status").asInt(), r.body());
        assertEquals(requestsBefore + 1, b.stats().get("cluster").get("routed_requests").asLong(),
                "the 15 pushes for clients on a went to a in one inbox message");
        for (int i = 0; i < onA.length; i++) {
            for (int round = 0; round < 3; round++) {
                SwbTestClient.Msg m = onA[i].readMsg();
                assertEquals("r" + round, m.text());
                assertEquals(results.get(round * 6 + i).get("seq").asLong(), m.seq());
            }
        }
        SwbTestClient away = a.hello("batch-away", "resume=0");
        for (int round = 0; round < 3; round++) {
            assertEquals("kept" + round, away.readMsg().text());
        }
    }

    @Test
    void shouldDisconnectAClientThroughTheOtherNode() throws Exception {
        SwbTestClient kicked = a.hello("kicked");
        ApiClient.Response r = b.api().delete("/v1/clients/kicked?code=403&reason=bye");
        assertEquals(200, r.status(), r.body());
        assertTrue(kicked.readLine().startsWith("BYE 403 bye"));
        GatewayFixture.await(() -> a.server().registry().size() == 0, "the session left a");
        assertEquals(404, b.api().delete("/v1/clients/kicked").status(), "not connected anywhere any more");
    }

    @Test
    void shouldReleaseItsClientsWhenANodeDrains() throws Exception {
        SwbTestClient leaving = a.hello("drained");
        a.server().drain();
        assertTrue(leaving.readLine().startsWith("BYE 503 draining"));
        GatewayFixture.await(() -> a.server().registry().size() == 0, "the session left a");
        // Released: a stored push through b is kept for the client, which finds it on b.
        ApiClient.Response r = b.api().post("/v1/clients/drained/messages?ttl=60", "after the drain");
        assertEquals(200, r.status(), r.body());
        assertFalse(r.json().get("delivered").asBoolean(), r.body());
        SwbTestClient back = b.hello("drained", "resume=0");
        assertEquals("after the drain", back.readMsg().text());
    }

    @Test
    void shouldReleaseItsClientsWhenANodeClosesWithThemConnected() throws Exception {
        // The cluster's connections run on the node's event loops: closing must write the releases of the clients
        // still connected before those loops stop, or their records keep naming a node that is gone.
        // Not one of the fixture's clients, which it closes before the gateway: this one is open when a closes.
        io.switchboard.server.SwbTestClient stays = io.switchboard.server.SwbTestClient.connect("127.0.0.1",
                a.server().port(), null);
        stays.hello("stays");
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
            var r = c.sync();
            byte[] owner = {'n'};
            GatewayFixture.await(() -> r.hget(Keys.record("stays"), owner) != null, "the claim in Redis");
            assertEquals("a", new String(r.hget(Keys.record("stays"), owner), java.nio.charset.StandardCharsets.UTF_8));
            a.close();
            assertNull(r.hget(Keys.record("stays"), owner), "the record still names the closed node");
        } finally {
            client.shutdown();
            stays.close();
        }
    }

    @Test
    void shouldSendATopicMessageOnlyToNodesWithASubscriber() throws Exception {
        long before = routedRequests(b);
        assertEquals(0, b.api().post("/v1/topics/quiet/messages", "x").json().get("delivered").asLong());
        assertEquals(before, routedRequests(b), "no node subscribes to 'quiet': nothing sent to a");

        SwbTestClient sub = a.hello("only-on-a");
        sub.send("SUB loud");
        sub.expectLine("OK SUB loud");
        GatewayFixture.await(() -> routedAfterPublish(b, "loud") == 1, "a registered its subscriber of 'loud'");
        assertEquals("m", sub.readMsg().text().substring(0, 1));

        // An MQTT wildcard subscriber on a makes a get every topic message (it matches them there).
        try (MqttTestClient mqtt = MqttTestClient.open(a.server().mqttPort(), 4)) {
            mqtt.connect("wild", true);
            mqtt.subscribeAndWait(1, "sensors/+/temp", 0);
            GatewayFixture.await(() -> routedAfterPublish(b, "sensors/7/temp") == 1, "a gets wildcard topics");
            assertEquals("sensors/7/temp", mqtt.readPublish().topic());
        }
    }

    @Test
    void aTopicSubscriberEntryWhoseWriteFailedIsWrittenAtALaterRefresh() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            c.sync().set(key(Keys.subscribers("alarms")), "not a set"); // the SADD fails (WRONGTYPE), as in an outage
            SwbTestClient sub = a.hello("alarm-panel");
            sub.send("SUB alarms");
            sub.expectLine("OK SUB alarms");
            GatewayFixture.await(() -> clusterStat(a, "redis_failures") >= 1, "a's SADD failed");
            c.sync().del(key(Keys.subscribers("alarms")));
            // Sent again at a lease refresh (every 2 s): b then sends the topic to a.
            GatewayFixture.await(() -> routedAfterPublish(b, "alarms") == 1, "a's entry for 'alarms' written again");
            assertEquals("m", sub.readMsg().text().substring(0, 1));
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldNotSendATopicMessageToANodeForTheSubscriberOfItsKilledProcess() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            var r = c.sync();
            // An earlier process of node a subscribed to "pumps" and was killed (it never removed its entry); the
            // process of a running now has no subscriber of it. Beside it, an entry of a node that holds no lease.
            r.sadd(key(Keys.subscribers("pumps")), "a 0e9c3c3e-killed-process", "gone some-process");
            long before = routedRequests(b);
            assertEquals(0, routedAfterPublish(b, "pumps"));
            assertEquals(before, routedRequests(b), "a was sent a topic message its killed process subscribed to");
            assertEquals(java.util.Set.of("gone some-process"), r.smembers(key(Keys.subscribers("pumps"))),
                    "the killed process's entry is removed; the leaseless node's stays (it may come back)");
            assertEquals(1, b.stats().get("cluster").get("ended_subscriber_entries_removed").asLong());

            // A subscriber on a now: its entry names a's running process, and the topic reaches it.
            SwbTestClient sub = a.hello("pump-watcher");
            sub.send("SUB pumps");
            sub.expectLine("OK SUB pumps");
            GatewayFixture.await(() -> routedAfterPublish(b, "pumps") == 1, "a registered its subscriber of 'pumps'");
            assertEquals("m", sub.readMsg().text());
            assertEquals(2, r.scard(key(Keys.subscribers("pumps"))));
        } finally {
            client.shutdown();
        }
    }

    @Test
    void aClaimLostWithARedisRestartWhoseOlderKeysSurvivedIsPutBack() throws Exception {
        SwbTestClient held = a.hello("held");
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try {
            byte[] kept;
            byte[] lease;
            try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
                kept = c.sync().get(Keys.kept("a"));
                lease = c.sync().get(Keys.lease("a"));
            }
            redis.stop();
            redis.startAgain();
            try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
                // As an everysec AOF or a replica behind keeps them: a's keys, written long before, survived; the
                // claim of "held", written last, did not. No lapse and no loss for a to see.
                c.sync().set(Keys.kept("a"), kept);
                c.sync().set(Keys.lease("a"), lease, io.lettuce.core.SetArgs.Builder.px(RedisCluster.LEASE_MS));
            }
            long deadline = System.nanoTime() + 20_000_000_000L;
            int pushed = 0;
            while (pushed != 200 && System.nanoTime() < deadline) {
                pushed = b.push("held", "found").status(); // ttl 0: 404 while b takes the client for offline
                Thread.sleep(50);
            }
            assertEquals(200, pushed, "a put its client's claim back after Redis came back as another process");
            assertEquals("found", held.readMsg().text());
        } finally {
            client.shutdown();
        }
    }

    @Test
    void aReleaseThatFoundRedisGoneIsDoneOnceRedisIsBack() throws Exception {
        // Not retried, the record went on naming a, without an expiry: alice online there for good (info, an extra
        // hop per push) and a Redis key that never goes.
        SwbTestClient alice = a.hello("alice");
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try {
            java.util.Map<byte[], byte[]> record;
            try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
                record = c.sync().hgetall(Keys.record("alice"));
            }
            redis.stop();
            alice.leave(); // its release cannot reach Redis
            GatewayFixture.await(() -> a.server().registry().size() == 0, "alice's session left a");
            redis.startAgain();
            try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
                c.sync().hset(Keys.record("alice"), record); // as an AOF written before the release keeps it
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (c.sync().hget(Keys.record("alice"), "n".getBytes(StandardCharsets.UTF_8)) != null
                        && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertNull(c.sync().hget(Keys.record("alice"), "n".getBytes(StandardCharsets.UTF_8)),
                        "released once Redis was back");
                assertTrue(c.sync().pttl(Keys.record("alice")) > 0, "and the record expires");
            }
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldReachClientsAndTopicsAcrossNodesAgainAfterRedisRestartedEmpty() throws Exception {
        SwbTestClient reader = readerOfAlarmsOnA();
        SwbTestClient held = a.hello("held");
        assertEquals(200, a.api().post("/v1/topics/status%2Fvalve/messages?retain=true", "open").status());
        redis.stop();
        redis.startAgain(); // empty: the claims and the subscriber sets are gone
        // Once both reconnected, a puts its claims and entries back within a lease refresh; until then b takes
        // "held" for offline (404) and sends the topic to no node (or answers 503 while it reconnects).
        long deadline = System.nanoTime() + 20_000_000_000L;
        int pushed = 0;
        while (pushed != 200 && System.nanoTime() < deadline) {
            pushed = b.push("held", "found").status();
            Thread.sleep(50);
        }
        assertEquals(200, pushed, "b reached the client connected on a again");
        assertEquals("found", held.readMsg().text());
        long delivered = 0;
        while (delivered == 0 && System.nanoTime() < deadline) {
            ApiClient.Response r = b.api().post("/v1/topics/alarms/messages", "again");
            delivered = r.status() == 200 ? r.json().get("delivered").asLong() : 0;
            Thread.sleep(50);
        }
        assertEquals(1, delivered, "b reached a's subscriber of 'alarms' again");
        assertEquals("again", reader.readMsg().text());
        // Counted when a's reclaim is answered, which may come after b already found what it put back.
        GatewayFixture.await(() -> clusterStat(a, "claims_put_back") >= 2,
                "a counted both claims it put back");
        assertEquals(2, a.stats().get("cluster").get("claims_put_back").asLong(), "held and reader");
        // And the retained message, for a node that starts later (it loads them from Redis).
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            GatewayFixture.await(() -> {
                String kept = c.sync().hget(key(Keys.RETAINED), "status/valve");
                return kept != null && "open".equals(new String(RedisDirectory.retainedFrom(
                        kept.getBytes(java.nio.charset.StandardCharsets.UTF_8)).payload(),
                        java.nio.charset.StandardCharsets.UTF_8));
            }, "the retained message back in Redis");
        } finally {
            client.shutdown();
        }

        // The claim put back is the one a holds: the client's leaving releases it as before.
        held.leave();
        GatewayFixture.await(() -> !infoOn(b, "held").get("online").asBoolean(), "b sees the client offline");
    }

    @Test
    void shouldDrainAndLeaveTheNodeToTheProcessThatTookItsLease() throws Exception {
        SwbTestClient onA = a.hello("on-the-old-a");
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            var r = c.sync();
            // a was taken for dead (say, cut off from Redis past its lease) and a new process of a took the node.
            r.set(key(Keys.lease("a")), "the-new-process-of-a", io.lettuce.core.SetArgs.Builder.px(60_000));
            r.xadd(key(Keys.inbox("a")), java.util.Map.of("m", "kept"));
            // At its next lease refresh the old process finds it held, drains and says why.
            assertTrue(onA.readLine().startsWith("BYE 503 draining"), "the old process sends its clients away");
            GatewayFixture.await(() -> a.server().leftBecause() != null, "a says why it left");
            assertTrue(a.server().leftBecause().contains("another process (the-new-process-of-a) holds node a's lease"),
                    a.server().leftBecause());
            a.close();
            // Leaving, it took neither the lease back nor the node from the new process.
            assertEquals("the-new-process-of-a", r.get(key(Keys.lease("a"))));
            assertTrue(r.sismember(key(Keys.NODES), "a"), "a is still a node");
            assertEquals(1L, r.xlen(key(Keys.inbox("a"))), "a's inbox is the new process's");
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldSendAClientToResumeTheMessagesKeptForItWhileItsNodeWasTakenForDead() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
            KeptBeside k = keptBesideAliceOnA(c);
            c.sync().del(Keys.lease("a"));
            // At its next refresh a takes its lease back, finds the message and sends alice to resume it.
            assertTrue(k.alice().readLine().startsWith("BYE 503 "), "a sends alice to resume");
            a.assertRefusals("cluster_resume", 1);
            // The mark stays until the next claim: until the BYE took effect, a's session under that claim could
            // still take a stored push of its own, with a seq below the kept one's (append.lua refuses it).
            assertEquals(k.epoch(), new String(c.sync().hget(Keys.record("alice"), "k".getBytes())));
            SwbTestClient back = b.hello("alice", "resume=" + k.before().seq());
            SwbTestClient.Msg m = back.readMsg();
            assertEquals("kept while a was away", m.text());
            assertEquals(k.keptSeq(), m.seq());
            assertNull(c.sync().hget(Keys.record("alice"), "k".getBytes()), "the next claim clears the mark");
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldNotAnswerAStoredPushBelowAMessageKeptForTheClientWhileItsNodeWasTakenForDead() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
            KeptBeside k = keptBesideAliceOnA(c);
            SwbTestClient alice = k.alice();
            // a, back before its next refresh tells it its lease had lapsed: a push of its own would get a seq
            // below the kept one, answered after it. Refused instead, and alice is sent to resume at once.
            ApiClient.Response own = a.api().post("/v1/clients/alice/messages?ttl=60", "a's own");
            assertEquals(503, own.status(), own.body());
            String line = lineAfterMessages(alice);
            assertTrue(line.startsWith("BYE 503 "), "a sends alice to resume: " + line);
            SwbTestClient back = b.hello("alice", "resume=" + k.before().seq());
            SwbTestClient.Msg m = back.readMsg();
            assertEquals("kept while a was away", m.text());
            assertEquals(k.keptSeq(), m.seq());
            assertTrue(back.silentFor(300), "nothing after it");
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldPushToTheClientsNewerClaimOnTheSameNodeRatherThanKeepItBesideTheSession() throws Exception {
        a.hello("alice").leave();
        GatewayFixture.await(() -> !infoOn(a, "alice").get("online").asBoolean(), "alice left a");
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
            String left = new String(c.sync().hget(Keys.record("alice"), "e".getBytes()));
            SwbTestClient alice = a.hello("alice", "resume=0");
            String now = new String(c.sync().hget(Keys.record("alice"), "e".getBytes()));
            // A node told "not here" by a under alice's first claim: her new claim on a still holds her.
            List<Object> r = pushAsAnotherNode(c, "alice", "a " + left, "to her new session");
            assertEquals(List.of(1L, "a", now), List.of(r.get(0), new String((byte[]) r.get(1)),
                    new String((byte[]) r.get(2))), "the newer claim holds alice");
            // Under the claim that holds her, the same answer makes the push one for an offline client.
            assertEquals(0L, pushAsAnotherNode(c, "alice", "a " + now, "kept").get(0));
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldResumeStoredMessagesInSeqOrderWhateverTheirOrderInRedis() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            // Out of seq order, as when another node kept some while it took the client's node for dead, and twice.
            long exp = System.currentTimeMillis() + 60_000;
            c.sync().rpush(key(Keys.stored("dora")), "100:" + exp + ":first", "300:" + exp + ":third",
                    "200:" + exp + ":second", "300:" + exp + ":third");
            c.sync().hset(key(Keys.record("dora")), "s", "300");
        } finally {
            client.shutdown();
        }
        SwbTestClient dora = b.hello("dora", "resume=0");
        for (String expected : new String[] {"first", "second", "third"}) {
            SwbTestClient.Msg m = dora.readMsg();
            assertEquals(expected, m.text());
            dora.ack(m.seq());
        }
        assertTrue(dora.silentFor(300), "each message once");
    }

    /** alice on a, given "before", and a push for her that another node kept (its claim's {@code epoch}). */
    private record KeptBeside(SwbTestClient alice, SwbTestClient.Msg before, String epoch, long keptSeq) {
    }

    /**
     * alice connected to a and given one message; then a's lease lapsed (a was paused, or cut off from Redis, past
     * it): b took a for dead, and a push for alice through b was kept as for an offline client, beside her live
     * session on a.
     */
    private KeptBeside keptBesideAliceOnA(io.lettuce.core.api.StatefulRedisConnection<byte[], byte[]> c)
            throws Exception {
        SwbTestClient alice = a.hello("alice");
        assertEquals(200, a.api().post("/v1/clients/alice/messages?ttl=60", "before").status());
        SwbTestClient.Msg before = alice.readMsg();
        assertEquals("before", before.text());
        String epoch = new String(c.sync().hget(Keys.record("alice"), "e".getBytes()));
        List<Object> kept = pushAsAnotherNode(c, "alice", "a " + epoch, "kept while a was away");
        assertEquals(0L, kept.get(0), "kept for the offline client");
        return new KeptBeside(alice, before, epoch, StoredEntries.number(kept.get(1)));
    }

    @Test
    void shouldUndoAClaimThatRanAfterItsNodeHadGivenUpOnIt() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
            SwbTestClient alice = a.hello("alice");
            // alice came to b a moment ago, while b could not reach Redis: b's claim timed out there and b refused
            // her (she connected to a), but the claim's bytes were held on their way and Redis runs it now.
            List<Object> late = claimAs(c, "alice", "b", "late-1");
            assertEquals("a", new String((byte[]) late.get(0), java.nio.charset.StandardCharsets.UTF_8));
            // The record names b, which does not hold her: a push is kept as for an offline client, and alice, on
            // a, is not told (NoLossUnderFaultsTest lost such a push).
            ApiClient.Response kept = b.api().post("/v1/clients/alice/messages?ttl=60", "kept beside her");
            assertEquals(200, kept.status(), kept.body());
            assertTrue(alice.silentFor(300), "not sent to alice on a");
            // b undoes the claim it gave up on: released, and a lets alice go; she connects again and gets it.
            ((RedisDirectory) b.server().registry().directory()).undoClaim("alice", "late-1");
            assertTrue(alice.readLine().startsWith("BYE 409 "), "a lets alice go");
            SwbTestClient back = a.hello("alice");
            assertEquals("kept beside her", back.readMsg().text());
            assertEquals(1, clusterStat(b, "late_claims_undone"));
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldSendAClientToConnectAgainWhenItsNodeFindsItsClaimReplacedWithoutBeingTold() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
            SwbTestClient alice = a.hello("alice");
            claimAs(c, "alice", "b", "late-3"); // run late, and b never undoes it (say b died meanwhile)
            assertEquals(200, b.api().post("/v1/clients/alice/messages?ttl=60", "kept beside her").status());
            // a's next stored push for her finds its claim replaced: refused, and alice sent to connect again.
            ApiClient.Response own = a.api().post("/v1/clients/alice/messages?ttl=60", "a's own");
            assertEquals(503, own.status(), own.body());
            String line = lineAfterMessages(alice);
            assertTrue(line.startsWith("BYE 503 "), "a sends alice to connect again: " + line);
            SwbTestClient back = a.hello("alice");
            assertEquals("kept beside her", back.readMsg().text());
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldVoidAClaimItsNodeGaveUpOnBeforeItRuns() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
            SwbTestClient alice = a.hello("alice");
            ((RedisDirectory) b.server().registry().directory()).undoClaim("alice", "late-2");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (c.sync().hget(Keys.undoneClaims("alice"), "late-2".getBytes()) == null) {
                assertTrue(System.nanoTime() < deadline, "the undo reached Redis");
                Thread.sleep(20);
            }
            assertTrue(claimAs(c, "alice", "b", "late-2").isEmpty(), "the claim, run late, does nothing");
            assertEquals("a", new String(c.sync().hget(Keys.record("alice"), "n".getBytes())));
            assertEquals(200, b.api().post("/v1/clients/alice/messages?ttl=60", "to a").status());
            assertEquals("to a", alice.readMsg().text());
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldAnswerAClaimSentAgainThatItRanAlreadyAndLetTheNodeUndoIt() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
            SwbTestClient alice = a.hello("alice");
            assertFalse(claimAs(c, "alice", "b", "twice-1").isEmpty());
            // Lettuce sent it again on a new connection, the first answer lost: "ran already", nothing changed.
            String epoch = new String(c.sync().hget(Keys.record("alice"), "e".getBytes()));
            assertTrue(claimAs(c, "alice", "b", "twice-1").isEmpty());
            assertEquals(epoch, new String(c.sync().hget(Keys.record("alice"), "e".getBytes())));
            // b, which took that for a failure, undoes it; the node whose claim it replaced lets alice go.
            ((RedisDirectory) b.server().registry().directory()).undoClaim("alice", "twice-1");
            assertTrue(alice.readLine().startsWith("BYE 409 "), "a lets alice go");
        } finally {
            client.shutdown();
        }
    }

    /** The next line that is not a message (a refused push may have reached the client before the store said no). */
    private static String lineAfterMessages(SwbTestClient c) throws IOException {
        String line = c.readLine();
        while (line.startsWith("MSG ")) {
            c.readLine(); // its payload
            line = c.readLine();
        }
        return line;
    }

    /** Runs claim.lua for {@code clientId} as {@code node} with claim token {@code token}. */
    private static List<Object> claimAs(io.lettuce.core.api.StatefulRedisConnection<byte[], byte[]> c,
                                        String clientId, String node, String token) throws Exception {
        return Script.load("claim", io.lettuce.core.ScriptOutputType.MULTI).<List<Object>>run(c.async(),
                new byte[][] {Keys.record(clientId), Keys.stored(clientId), Keys.unreleasedQos2(clientId),
                    Keys.undoneClaims(clientId)}, Script.bytes(node), Script.bytes(token))
                .get(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Runs push.lua as a node that found {@code notOwner} ("node epoch") not holding {@code clientId}. */
    private static List<Object> pushAsAnotherNode(io.lettuce.core.api.StatefulRedisConnection<byte[], byte[]> c,
                                                  String clientId, String notOwner, String payload) throws Exception {
        return Script.load("push", io.lettuce.core.ScriptOutputType.MULTI).<List<Object>>run(c.async(),
                Keys.client(clientId), Script.bytes(notOwner), Script.bytes(60_000), Script.bytes(payload),
                Script.bytes(1000), Script.bytes("1"), Script.bytes(60_000),
                Script.bytes(System.currentTimeMillis())).get(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void shouldGiveAnMqttSubscriberOnEitherNodeTheRetainedMessage() throws Exception {
        assertEquals(200, a.api().post("/v1/topics/status%2Fpump/messages?retain=true", "on").status());
        GatewayFixture.await(() -> b.server().registry().retained().count() == 1, "b heard of the retained message");
        try (MqttTestClient onB = MqttTestClient.open(b.server().mqttPort(), 4)) {
            onB.connect("retain-b", true);
            onB.subscribeAndWait(1, "status/#", 0);
            MqttTestClient.Pub p = onB.readPublish();
            assertEquals("status/pump", p.topic());
            assertEquals("on", p.text());
            assertTrue(p.retain(), "sent as retained");
        }
        // A node that starts later loads it from Redis.
        try (GatewayFixture late = new GatewayFixture()) {
            late.config.cluster = redis.uri();
            late.config.nodeName = "late";
            late.config.mqttPort = 0;
            late.start();
            try (MqttTestClient onLate = MqttTestClient.open(late.server().mqttPort(), 4)) {
                onLate.connect("retain-late", true);
                onLate.subscribeAndWait(1, "status/pump", 0);
                assertEquals("on", onLate.readPublish().text());
            }
        }
    }

    @Test
    void shouldCarryV5MessagePropertiesToSubscribersOnTheOtherNodeAndInRetainedMessages() throws Exception {
        var props = new io.switchboard.mqtt.PublishProperties(1, 600, "text/plain", "replies/x", new byte[] {9, 0, 9},
                List.of(new io.switchboard.mqtt.UserProperty("k", "v"),
                        new io.switchboard.mqtt.UserProperty("k", "w")));
        try (MqttTestClient onB = MqttTestClient.open(b.server().mqttPort(), 5);
             MqttTestClient onA = MqttTestClient.open(a.server().mqttPort(), 5)) {
            onB.connect("props-b", true);
            onB.subscribeAndWait(1, "req/#", 0);
            GatewayFixture.await(() -> routedAfterPublish(a, "req/probe") == 1, "a knows of b's subscriber");
            onA.connect("props-a", true);
            onA.publish("req/1", "q", 1, 1, true, props); // retained too
            onA.expect(MqttTestClient.PUBACK);
            MqttTestClient.Packet p;
            do {
                p = onB.expect(MqttTestClient.PUBLISH); // past the probes
            } while (!onB.publishOf(p).topic().equals("req/1"));
            var got = onB.propertiesOf(p);
            assertEquals(List.of(1, 600L, "text/plain", "replies/x", List.of("k", "v", "k", "w")),
                    List.of(got.payloadFormat(), got.messageExpirySec(), got.contentType(), got.responseTopic(),
                            got.userProperties().stream().flatMap(u -> java.util.stream.Stream.of(u.name(), u.value()))
                                    .toList()));
            org.junit.jupiter.api.Assertions.assertArrayEquals(new byte[] {9, 0, 9}, got.correlationData());
        }
        // The retained message, with its properties, on a node that starts later (it loads them from Redis).
        try (GatewayFixture late = new GatewayFixture()) {
            asNode(late, "late");
            late.start();
            late.advanceSec(200);
            try (MqttTestClient onLate = MqttTestClient.open(late.server().mqttPort(), 5)) {
                onLate.connect("props-late", true);
                onLate.subscribeAndWait(1, "req/1", 0);
                MqttTestClient.Packet p = onLate.expect(MqttTestClient.PUBLISH);
                assertEquals("q", onLate.publishOf(p).text());
                assertEquals("replies/x", onLate.propertiesOf(p).responseTopic());
                assertEquals(400, onLate.propertiesOf(p).messageExpirySec(), "what is left of its expiry");
            }
        }
    }

    @Test
    void shouldRemoveAnExpiredRetainedMessageFromRedisAndTakeAnEarlierVersionsRetainedMessages() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            c.sync().hset(key(Keys.RETAINED_EARLIER), "old/topic", "from before"); // as an earlier version kept it
            try (MqttTestClient onA = MqttTestClient.open(a.server().mqttPort(), 5)) {
                onA.connect("expiring", true);
                onA.publish("soon/gone", "x", 1, 1, true,
                        io.switchboard.mqtt.PublishProperties.NONE.withMessageExpiry(10));
                onA.expect(MqttTestClient.PUBACK);
            }
            GatewayFixture.await(() -> c.sync().hexists(key(Keys.RETAINED), "soon/gone"), "kept in Redis");
            a.advanceSec(11);
            try (MqttTestClient late = MqttTestClient.open(a.server().mqttPort(), 5)) {
                late.connect("meets-it", true);
                late.subscribeAndWait(1, "soon/#", 0);
                late.expectSilence(200); // expired: not sent, dropped here, and from Redis
            }
            GatewayFixture.await(() -> !c.sync().hexists(key(Keys.RETAINED), "soon/gone"), "gone from Redis too");

            // A node that starts now takes the earlier version's message (a rolling upgrade).
            try (GatewayFixture later = new GatewayFixture()) {
                asNode(later, "later");
                later.start();
                try (MqttTestClient onLater = MqttTestClient.open(later.server().mqttPort(), 4)) {
                    onLater.connect("old-retained", true);
                    onLater.subscribeAndWait(1, "old/topic", 0);
                    assertEquals("from before", onLater.readPublish().text());
                }
            }
        } finally {
            client.shutdown();
        }
    }

    @Test
    void shouldVoidADelayedWillWhenItsClientComesBackOnTheOtherNodeAndPublishItWhenItDoesNot() throws Exception {
        try (MqttTestClient watcher = MqttTestClient.open(a.server().mqttPort(), 5)) {
            assertEquals(0, watcher.connect("watcher", true));
            assertEquals(0, watcher.subscribeAndWait(1, "w/#", 0));
            // Dropped on a without a DISCONNECT: its will waits out its 2 s there ...
            dropWithWill("dev", 2);
            // ... and the client continues its session on b within them: a must not publish it.
            try (MqttTestClient back = MqttTestClient.open(b.server().mqttPort(), 5)) {
                back.sendConnect("dev", false, 60, null, null, 0, 3600);
                assertEquals(0, back.connack().body()[1] & 0xFF);
                watcher.expectSilence(3_000);
            }
            // A client that does not come back has its will published after the delay.
            dropWithWill("dev2", 1);
            assertEquals("w/dev2", watcher.readPublish().topic());
        }
    }

    @Test
    void shouldNotDeliverAQos2MessageTwiceWhenItsClientSendsItAgainOnTheOtherNode() throws Exception {
        SwbTestClient reader = readerOfAlarmsOnA();
        try (MqttTestClient first = MqttTestClient.open(a.server().mqttPort(), 4)) {
            assertEquals(0, first.connect("alarm", false)); // a persistent session
            first.publish("alarms", "fire", 2, 9);
            first.expect(MqttTestClient.PUBREC);
        } // dropped before the PUBREC reached the client
        a.awaitOffline("alarm");
        assertEquals("fire", reader.readMsg().text());
        try (MqttTestClient again = MqttTestClient.open(b.server().mqttPort(), 4)) {
            assertEquals(0, again.connect("alarm", false));
            again.publish("alarms", "fire", 2, 9, true); // sent again with DUP, as MQTT asks
            again.expect(MqttTestClient.PUBREC);
            again.pubrel(9);
            again.expect(MqttTestClient.PUBCOMP);
            again.publish("alarms", "smoke", 2, 10);
            again.expect(MqttTestClient.PUBREC);
            assertEquals("smoke", reader.readMsg().text(), "the resent one was not delivered a second time");
            // Released: the id is free again, and the next message with it is delivered.
            again.publish("alarms", "flood", 2, 9);
            again.expect(MqttTestClient.PUBREC);
            assertEquals("flood", reader.readMsg().text());
        }
    }

    @Test
    void shouldNotDeliverAQos2MessageTwiceWhenItsClientTakesItsSessionOverOnTheOtherNode() throws Exception {
        SwbTestClient reader = readerOfAlarmsOnA();
        try (MqttTestClient first = MqttTestClient.open(a.server().mqttPort(), 5);
                MqttTestClient second = MqttTestClient.open(b.server().mqttPort(), 5)) {
            first.sendConnect("pump", false, 60, null, null, 0, 3600); // v5, the session kept an hour
            assertEquals(0, first.connack().body()[1] & 0xFF);
            first.publish("alarms", "dry", 2, 7);
            first.expect(MqttTestClient.PUBREC);
            first.publish("alarms", "hot", 2, 8); // a second one left unreleased
            first.expect(MqttTestClient.PUBREC);
            assertEquals("dry", reader.readMsg().text());
            assertEquals("hot", reader.readMsg().text());
            // The client comes back on b while a still holds its old connection (never closed here).
            second.sendConnect("pump", false, 60, null, null, 0, 3600);
            assertEquals(0, second.connack().body()[1] & 0xFF);
            second.publish("alarms", "dry", 2, 7, true); // no PUBREC reached it: sent again
            second.expect(MqttTestClient.PUBREC);
            second.pubrel(7);
            assertEquals(2, second.expect(MqttTestClient.PUBCOMP).body().length, "7 was known: no reason (success)");
            second.publish("alarms", "hot", 2, 8); // without DUP: a new message with that id, delivered
            second.expect(MqttTestClient.PUBREC);
            assertEquals("hot", reader.readMsg().text(), "the resent 'dry' was not delivered a second time");
        }
    }

    /** An SWB/1 client on a subscribed to "alarms", once b sends that topic's messages to a. */
    private SwbTestClient readerOfAlarmsOnA() throws Exception {
        SwbTestClient reader = a.hello("reader");
        reader.send("SUB alarms");
        reader.expectLine("OK SUB alarms");
        GatewayFixture.await(() -> routedAfterPublish(b, "alarms") == 1, "a registered its subscriber of 'alarms'");
        assertEquals("m", reader.readMsg().text());
        return reader;
    }

    /** Connects {@code id} to a (v5, session kept an hour) with a will on w/id delayed {@code sec}, and drops it. */
    private void dropWithWill(String id, int sec) throws Exception {
        MqttTestClient first = MqttTestClient.open(a.server().mqttPort(), 5);
        assertEquals(0, first.connectWithWill(id, "w/" + id, "gone", false, sec, true, 3600));
        first.close();
        // Offline, or already gone: under a slow machine its will's delay may have run out before the first look.
        GatewayFixture.await(() -> {
            try {
                ApiClient.Response r = a.api().get("/v1/clients/" + id);
                return r.status() == 404 || r.status() == 200 && !r.json().get("online").asBoolean();
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, id + " offline");
    }

    static long clusterStat(GatewayFixture gw, String name) {
        try {
            return gw.stats().get("cluster").get(name).asLong();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long routedRequests(GatewayFixture gw) {
        return clusterStat(gw, "routed_requests");
    }

    /** Publishes "m" to {@code topic} through {@code gw}; returns how many clients it reached. */
    private static long routedAfterPublish(GatewayFixture gw, String topic) {
        try {
            return gw.api().post("/v1/topics/" + topic.replace("/", "%2F") + "/messages", "m").json()
                    .get("delivered").asLong();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void shouldTellWhereAClientIsFromEitherNode() throws Exception {
        SwbTestClient alice = a.hello("where");
        var here = a.clientInfo("where");
        assertEquals("a", here.get("node").asText());
        assertTrue(here.has("remote"), here.toString());
        var there = b.clientInfo("where");
        assertTrue(there.get("online").asBoolean(), there.toString());
        assertEquals("a", there.get("node").asText(), there.toString());

        alice.leave();
        // The release reaches Redis a moment after the session left a.
        GatewayFixture.await(() -> !infoOn(b, "where").get("online").asBoolean(), "b sees the client offline");
        var gone = b.clientInfo("where");
        assertFalse(gone.get("online").asBoolean(), gone.toString());
        assertFalse(gone.has("node"), gone.toString());
        assertEquals(404, b.api().get("/v1/clients/never-seen").status());

        var cluster = b.stats().get("cluster");
        assertEquals("b", cluster.get("node").asText(), cluster.toString());
        assertEquals(2, cluster.get("nodes_alive").asInt(), cluster.toString());
        String metrics = b.api().get("/metrics").body();
        assertTrue(metrics.contains("\nswitchboard_cluster_nodes_alive 2\n"), metrics);
        assertTrue(metrics.contains("\nswitchboard_cluster_redis_up 1\n"), metrics);
        assertTrue(metrics.contains("\n# TYPE switchboard_cluster_routed_pushes_total counter\n"), metrics);
    }

    private static com.fasterxml.jackson.databind.JsonNode infoOn(GatewayFixture gw, String clientId) {
        try {
            return gw.clientInfo(clientId);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aClientsPushesWaitingTheirTurnBehindOneThatFoundRedisSilentAre503AtOnce() throws Exception {
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.uri());
        java.util.concurrent.ExecutorService backends = java.util.concurrent.Executors.newFixedThreadPool(10);
        try (var admin = client.connect()) {
            admin.sync().clientPause(3_000); // Redis silent, its connections up (a black-holed path looks the same)
            long startNs = System.nanoTime();
            List<java.util.concurrent.Future<Integer>> pushes = new java.util.ArrayList<>();
            for (int i = 0; i < 10; i++) {
                int n = i;
                pushes.add(backends.submit(() -> a.api().post("/v1/clients/hal/messages?ttl=60", "p" + n).status()));
            }
            StringBuilder batch = new StringBuilder("{\"messages\":[");
            for (int i = 0; i < 20; i++) {
                batch.append(i == 0 ? "" : ",").append("{\"client\":\"ivy\",\"payload\":\"b").append(i)
                        .append("\",\"ttl\":60}");
            }
            java.util.concurrent.Future<ApiClient.Response> batchAnswer =
                    backends.submit(() -> a.api().post("/v1/messages", batch.append("]}").toString()));
            for (java.util.concurrent.Future<Integer> f : pushes) {
                assertEquals(503, f.get(10, java.util.concurrent.TimeUnit.SECONDS));
            }
            ApiClient.Response r = batchAnswer.get(10, java.util.concurrent.TimeUnit.SECONDS);
            long tookMs = (System.nanoTime() - startNs) / 1_000_000;
            // A command timeout or two (500 ms, checked every quarter of it: a push that came after the first 503
            // makes its own attempt) and scheduling, not one per push (10 x 500 for the single pushes, 20 x 500 for
            // the batch's).
            assertTrue(tookMs < 3_000, "all answered within " + tookMs + " ms");
            for (com.fasterxml.jackson.databind.JsonNode one : r.json().get("results")) {
                assertEquals(503, one.get("status").asInt(), r.body());
            }
        } finally {
            backends.shutdownNow();
            client.shutdown();
        }
    }

    @Test
    void shouldAnswer503WhileRedisIsDownAndRecoverByItself() throws Exception {
        SwbTestClient local = a.hello("erin");
        SwbTestClient remote = b.hello("frank");
        redis.stop();

        // A client connected here is reached without Redis; one on the other node and a stored message are not.
        assertEquals(200, a.push("erin", "still here").status());
        assertEquals("still here", local.readMsg().text());
        long startNs = System.nanoTime();
        ApiClient.Response r = a.push("frank", "elsewhere");
        assertEquals(503, r.status(), r.body());
        assertTrue(System.nanoTime() - startNs < 3_000_000_000L, "503 within the command timeout");
        assertEquals(503, a.api().post("/v1/clients/erin/messages?ttl=60", "stored").status());
        // Looking up or disconnecting a client held elsewhere needs Redis too: 503 with the reason, not a 500.
        ApiClient.Response info = a.api().get("/v1/clients/frank");
        assertEquals(503, info.status(), info.body());
        assertTrue(info.body().contains("Redis"), info.body());
        assertEquals(503, a.api().delete("/v1/clients/frank").status());

        // A new handshake needs Redis: refused with 503, the client retries later.
        SwbTestClient refused = a.connect();
        refused.send("HELLO gina");
        assertTrue(refused.readLine().startsWith("BYE 503 cluster unavailable"));
        assertTrue(remote.silentFor(100), "the other node's client kept its connection");

        redis.startAgain();
        long deadline = System.nanoTime() + 20_000_000_000L;
        String welcome = null;
        while (welcome == null && System.nanoTime() < deadline) {
            try (SwbTestClient retry = a.connect()) {
                retry.send("HELLO gina");
                String line = retry.readLine();
                if (line.startsWith("WELCOME")) {
                    welcome = line;
                }
            } catch (IOException e) {
                // refused: try again
            }
            Thread.sleep(100);
        }
        assertTrue(welcome != null, "a handshake succeeded once Redis was back");
    }

    private static String key(byte[] k) {
        return new String(k, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void shouldReleaseTheClientsAForgottenNodeStillHeld() throws Exception {
        assertArrayEquals(Keys.stored("k"), ForgottenNodeSweep.storedKey(Keys.record("k")));
        SwbTestClient onA = a.hello("alive-on-a");
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        long before = RedisCluster.forgetAfterMs;
        try (var c = client.connect()) {
            var r = c.sync();
            // "killed" was killed holding a client: its record names it and never expires. Beside it: a client
            // held by b, one held by a, and more records than one SCAN batch.
            r.sadd(key(Keys.NODES), "killed");
            r.hset(key(Keys.record("gone-for-good")), java.util.Map.of("n", "killed", "e", "3", "s", "17"));
            r.rpush(key(Keys.stored("gone-for-good")), "18:" + (GatewayFixture.START_MS + 3_600_000) + ":kept");
            r.pexpire(key(Keys.stored("gone-for-good")), 3_600_000);
            // A client a new process named "killed" claimed after the forget: its epoch (Redis's clock then) is
            // newer than the sweep's start, and it stays.
            r.hset(key(Keys.record("claimed-since")), java.util.Map.of("n", "killed", "e", "9000000000000000"));
            // Its topic subscriber entries: of its last process (named as it joined), of an earlier process, of the
            // old form, and another node's.
            r.set(key(Keys.kept("killed")), "proc-1");
            r.sadd(key(Keys.subscribers("sweep/pumps")), "killed proc-1", "killed proc-0", "killed", "b proc-b",
                    "killed-not proc-2");
            r.sadd(key(Keys.subscribers("sweep/only-killed")), "killed proc-1");
            r.sadd(key(Keys.WILDCARD_NODES), "killed proc-1");
            SwbTestClient back = b.hello("came-back");
            for (int i = 0; i < 2 * ForgottenNodeSweep.BATCH; i++) {
                r.hset(key(Keys.record("other-" + i)), java.util.Map.of("s", "1"));
            }
            long finished = ForgottenNodeSweep.FINISHED.get();
            RedisCluster.forgetAfterMs = 0;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (ForgottenNodeSweep.FINISHED.get() == finished && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(finished + 1, ForgottenNodeSweep.FINISHED.get(), "one sweep, to the end");
            deadline = System.nanoTime() + 5_000_000_000L;
            while (r.hexists(key(Keys.SWEEPS), "killed") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertFalse(r.hexists(key(Keys.SWEEPS), "killed"), "its place in Redis removed at the end");
            // Released as a client that went offline: no owner, its last seq kept, expiring no sooner than its
            // stored messages; the stored messages untouched.
            assertFalse(r.hexists(key(Keys.record("gone-for-good")), "n"), "still names the killed node");
            assertEquals("17", r.hget(key(Keys.record("gone-for-good")), "s"));
            long ttl = r.pttl(key(Keys.record("gone-for-good")));
            assertTrue(ttl > 3_000_000, "expires like an offline client's record: " + ttl);
            assertEquals(1L, r.llen(key(Keys.stored("gone-for-good"))));
            // The others are left as they were.
            assertEquals("killed", r.hget(key(Keys.record("claimed-since")), "n"));
            assertEquals(-1L, r.pttl(key(Keys.record("claimed-since"))));
            assertEquals("b", r.hget(key(Keys.record("came-back")), "n"));
            assertEquals("a", r.hget(key(Keys.record("alive-on-a")), "n"));
            assertEquals(-1L, r.pttl(key(Keys.record("alive-on-a"))));
            assertEquals(200, a.push("alive-on-a", "still here").status());
            assertEquals("still here", onA.readMsg().text());
            // Its topic subscriber entries removed: its last process's, an earlier process's and the old-form one;
            // another node's stays, as does one of a node whose name begins as this one's.
            assertEquals(java.util.Set.of("b proc-b", "killed-not proc-2"),
                    r.smembers(key(Keys.subscribers("sweep/pumps"))));
            assertEquals(0L, r.exists(key(Keys.subscribers("sweep/only-killed"))));
            assertFalse(r.sismember(key(Keys.WILDCARD_NODES), "killed proc-1"));
            back.close();
        } finally {
            RedisCluster.forgetAfterMs = before;
            client.shutdown();
        }
    }

    @Test
    void aNoticeToAForgottenNodeDoesNotLeaveItsInboxForever() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            var r = c.sync();
            // A record still naming a node that was forgotten (its sweep had not reached it), whose client comes back.
            r.hset(key(Keys.record("back-from-ghost")), java.util.Map.of("n", "ghost", "e", "3", "s", "1"));
            SwbTestClient back = b.hello("back-from-ghost");
            GatewayFixture.await(() -> r.exists(key(Keys.inbox("ghost"))) == 1, "the taken-over notice sent to ghost");
            long ttl = r.pttl(key(Keys.inbox("ghost")));
            assertTrue(ttl > 0, "the inbox of a node not alive expires: " + ttl);
            // A live node's own inbox lasts: a notice sent before it was seen alive does not make it expire.
            SwbTestClient first = a.hello("moving");
            SwbTestClient second = b.hello("moving"); // a is told by a notice in its inbox
            first.expectLine("BYE 409 taken over");
            assertEquals(1L, r.exists(key(Keys.inbox("a"))));
            assertEquals(-1L, r.pttl(key(Keys.inbox("a"))), "a notice to a live node leaves its inbox lasting");
            r.pexpire(key(Keys.inbox("a")), 600_000);
            GatewayFixture.await(() -> r.pttl(key(Keys.inbox("a"))) == -1, "a made its inbox lasting again");
            second.close();
            back.close();
        } finally {
            client.shutdown();
        }
    }

    @Test
    void aNodeRestartedUnderItsNameAfterAKillReleasesTheClientsItsLastProcessHeld() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        GatewayFixture again = new GatewayFixture();
        try (var c = client.connect()) {
            var r = c.sync();
            a.close();
            // As a kill leaves it: the last process's mark, and the record of a client of it that never comes back.
            r.set(key(Keys.kept("a")), "killed-process");
            r.hset(key(Keys.record("retired")), java.util.Map.of("n", "a", "e", "3", "s", "5"));
            again.config.cluster = redis.uri();
            again.config.clusterTimeoutMs = 500;
            again.config.nodeName = "a"; // restarted by its supervisor under the same name
            again.start();
            GatewayFixture.await(() -> !r.hexists(key(Keys.record("retired")), "n"), "the record released");
            assertEquals("5", r.hget(key(Keys.record("retired")), "s"));
            assertTrue(r.pttl(key(Keys.record("retired"))) > 0, "expires as an offline client's record");
            assertFalse(infoOn(b, "retired").get("online").asBoolean());
            // Clients of the new process are left alone.
            SwbTestClient fresh = again.hello("fresh");
            assertEquals("a", r.hget(key(Keys.record("fresh")), "n"));
            fresh.close();
        } finally {
            again.close();
            client.shutdown();
        }
    }

    @Test
    void shouldCarryOnTheSweepOfANodeThatDiedDuringIt() throws Exception {
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        int before = RedisCluster.sweepCheckEveryTicks;
        try (var c = client.connect()) {
            var r = c.sync();
            // "killed" was forgotten and "sweeper" began releasing its clients, then died with one left; "busy"
            // is sweeping "other-killed" and alive (its lease held).
            long fenceUs = 9_000_000_000_000_000L; // after any epoch below: both records are older than the fence
            r.hset(key(Keys.record("left-behind")), java.util.Map.of("n", "killed", "e", "3", "s", "5"));
            r.hset(key(Keys.record("left-busy")), java.util.Map.of("n", "other-killed", "e", "3", "s", "5"));
            // The entry of "killed" as an earlier version wrote it (its last process not named): its topic
            // subscriber entries go all the same, of any process and of the old form (the bare name).
            r.hset(key(Keys.SWEEPS), "killed", fenceUs + " 0 sweeper");
            r.sadd(key(Keys.subscribers("carried-on")), "killed p-1", "killed", "other-killed p-9", "other-killed p-8");
            String busy = ForgottenNodeSweep.entry(fenceUs, "0", "busy", "p-9");
            r.hset(key(Keys.SWEEPS), "other-killed", busy);
            r.set(key(Keys.lease("busy")), "x", io.lettuce.core.SetArgs.Builder.px(60_000));
            long finished = ForgottenNodeSweep.FINISHED.get();
            RedisCluster.sweepCheckEveryTicks = 1;

            long deadline = System.nanoTime() + 20_000_000_000L;
            while (r.hexists(key(Keys.SWEEPS), "killed") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(r.hexists(key(Keys.SWEEPS), "killed"), "the orphaned sweep was carried on to its end");
            assertFalse(r.hexists(key(Keys.record("left-behind")), "n"), "released by the node that carried it on");
            assertEquals(finished + 1, ForgottenNodeSweep.FINISHED.get(), "one node carried it on, not both");
            // Two more looks at the sweeps: the live sweeper's is left alone.
            Thread.sleep(2 * RedisCluster.LEASE_MS / 3 * 2);
            assertEquals(busy, r.hget(key(Keys.SWEEPS), "other-killed"));
            assertEquals("other-killed", r.hget(key(Keys.record("left-busy")), "n"));
            // Its sweeper gone (no lease), it is carried on too.
            r.del(key(Keys.lease("busy")));
            deadline = System.nanoTime() + 20_000_000_000L;
            while (r.hexists(key(Keys.SWEEPS), "other-killed") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(r.hexists(key(Keys.record("left-busy")), "n"));
            assertEquals(0L, r.exists(key(Keys.subscribers("carried-on"))),
                    "the entries of every process of killed and other-killed removed, and the old-form one");
        } finally {
            RedisCluster.sweepCheckEveryTicks = before;
            client.shutdown();
        }
    }

    @Test
    void shouldLeaveTheClusterWhenItsStartFailsHalfWay() throws Exception {
        // The cluster's retained messages cannot be read (the key holds a string): node c joins (takes its lease and
        // its place in the node list), then fails while loading them.
        var client = io.lettuce.core.RedisClient.create(redis.uri());
        try (var c = client.connect()) {
            c.sync().set(new String(Keys.RETAINED, java.nio.charset.StandardCharsets.UTF_8), "not a hash");
            try (GatewayFixture node = new GatewayFixture()) {
                node.config.cluster = redis.uri();
                node.config.clusterTimeoutMs = 500;
                node.config.nodeName = "c";
                assertThrows(IllegalStateException.class, node::start);
            }
            // It left what it joined: no lease that others take for a live node, no place in the node list.
            assertEquals(0L, c.sync().exists(new String(Keys.lease("c"), java.nio.charset.StandardCharsets.UTF_8)));
            assertFalse(c.sync().smembers(new String(Keys.NODES, java.nio.charset.StandardCharsets.UTF_8))
                    .contains("c"));
        } finally {
            client.shutdown();
        }
    }
}
