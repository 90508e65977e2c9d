package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The publisher of --publish-via counts the peer's refusals as failed pushes instead of discarding its answers. */
@Timeout(30)
class PeerPublisherTest {
    private static long failedAfter(String protocol, String... answers) throws Exception {
        BenchStats stats = new BenchStats();
        try (ServerSocket server = new ServerSocket(0)) {
            PeerPublisher p = PeerPublisher.connect(protocol,
                    new InetSocketAddress("127.0.0.1", server.getLocalPort()), null, stats);
            try (Socket peer = server.accept()) {
                OutputStream out = peer.getOutputStream();
                for (String a : answers) { // one write each: a read may end anywhere
                    out.write(a.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(20);
                }
                Thread.sleep(300); // the publisher's reader thread looks at them
            } finally {
                p.close();
            }
        }
        return stats.pushesFailed.sum();
    }

    @Test
    void httpAnswersOtherThan200AreFailedPushesAlsoWhenAStatusLineIsSplitOrFollowsABody() throws Exception {
        String ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        String busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}";
        assertEquals(2, failedAfter("http", ok + busy + ok, "HTTP/1.1 4", "29 Too Many\r\nContent-Length: 0\r\n\r\n",
                ok));
    }

    @Test
    void aRedisPublishThatReachedNoSubscriberOrFailedIsAFailedPush() throws Exception {
        assertEquals(2, failedAfter("redis", ":1\r\n:1", "\r\n:0\r\n", "-ERR wrong\r\n:3\r\n"));
    }

    @Test
    void natsErrorsAreFailedPushes() throws Exception {
        long failed = failedAfter("nats", "INFO {}\r\n", "-ERR 'Maximum Payload Violation'\r\n");
        assertTrue(failed == 1, "failed " + failed);
    }
}
