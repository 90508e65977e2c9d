package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.server.GatewayFixture;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A backend that pipelines many small pushes gets an answer to every one on its one connection (with Netty's
 * default pipeline depth of 128 the connection was reset once one read held more requests than that).
 */
@Timeout(60)
class ApiPipeliningTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void close() {
        gw.close();
    }

    @Test
    void aBodyTooLargeIsRefusedInItsTurnAfterTheAnswersOfEarlierRequests() throws Exception {
        gw.start();
        String stored = "POST /v1/clients/away/messages?ttl=60 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi";
        String huge = "POST /v1/broadcast HTTP/1.1\r\nHost: t\r\nContent-Length: 700000000\r\n\r\n";
        try (Socket s = new Socket("127.0.0.1", gw.server().apiPort())) {
            s.setSoTimeout(10_000);
            // The stored push is answered once the store has it (after a disk sync): later than the 413 is ready.
            s.getOutputStream().write((stored + huge).getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String answers = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            int first = answers.indexOf("HTTP/1.1 ");
            int second = answers.indexOf("HTTP/1.1 ", first + 1);
            assertEquals("HTTP/1.1 200", answers.substring(first, first + 12), answers);
            assertEquals("HTTP/1.1 413", answers.substring(second, second + 12), answers);
        }
    }

    @Test
    void fiveThousandPipelinedPushesInOneWriteAreAllAnswered() throws Exception {
        gw.start();
        gw.hello("target"); // pushes to a connected client are answered from its event loop, not at once
        int n = 5000; // ~350 KB: reads grow large, and each holds more requests than Netty's default depth of 128
        String request = "POST /v1/clients/target/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi";
        try (Socket s = new Socket("127.0.0.1", gw.server().apiPort())) {
            s.setReceiveBufferSize(1 << 20);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            Thread writer = new Thread(() -> { // writes while this thread reads: the server pauses reading otherwise
                try {
                    out.write(request.repeat(n).getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (java.io.IOException e) {
                    // the read side reports the outcome
                }
            });
            writer.start();
            InputStream in = s.getInputStream();
            StringBuilder got = new StringBuilder();
            byte[] buf = new byte[64 * 1024];
            int answers = 0;
            while (answers < n) {
                int r = in.read(buf);
                if (r < 0) {
                    break;
                }
                got.append(new String(buf, 0, r, StandardCharsets.US_ASCII));
                answers = got.toString().split("HTTP/1.1 ", -1).length - 1; // 200, or 429 once its queue is full
            }
            assertEquals(n, answers, "every pipelined request answered before the connection ended");
            writer.join(10_000);
        }
    }

    @Test
    void pipelinedPushesToClientsOnEveryLoopAreAnsweredInRequestOrder() throws Exception {
        gw.config.eventLoops = 2;
        gw.start();
        int clients = 4; // connections go round the loops: two on each, one of them the API connection's own
        java.util.List<io.switchboard.server.SwbTestClient> held = new java.util.ArrayList<>();
        for (int c = 0; c < clients; c++) {
            held.add(gw.hello("c" + c));
        }
        int n = 1000; // 250 per client: within its window and queue, so every push is accepted
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < n; i++) {
            requests.append("POST /v1/clients/c").append(i % clients)
                    .append("/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
        }
        try (Socket s = new Socket("127.0.0.1", gw.server().apiPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(requests.toString().getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder got = new StringBuilder();
            byte[] buf = new byte[64 * 1024];
            java.util.regex.Pattern answer = java.util.regex.Pattern.compile(
                    "HTTP/1\\.1 (\\d+) [^\\r]*\\r\\n(?:[^\\r]+\\r\\n)*\\r\\n\\{\"seq\":(\\d+),\"delivered\":(?:true|false)\\}");
            java.util.List<String> seen = new java.util.ArrayList<>();
            while (seen.size() < n) {
                int r = in.read(buf);
                if (r < 0) {
                    break;
                }
                got.append(new String(buf, 0, r, StandardCharsets.US_ASCII));
                java.util.regex.Matcher m = answer.matcher(got);
                int end = 0;
                while (m.find()) {
                    seen.add(m.group(1) + " seq " + m.group(2));
                    end = m.end();
                }
                got.delete(0, end);
            }
            assertEquals(n, seen.size(), "every request answered");
            for (int i = 0; i < n; i++) {
                // request i went to client i % 4 as its (i / 4 + 1)-th push: its answer is in request i's place
                assertEquals("200 seq " + (i / clients + 1), seen.get(i), "answer " + i);
            }
        }
        // Each client got its messages, in order: the flushes put off to the end of a loop's work all happened.
        for (int c = 0; c < clients; c++) {
            for (long seq = 1; seq <= n / clients; seq++) {
                assertEquals(seq, held.get(c).readMsg().seq(), "client c" + c);
                if (seq % 32 == 0) {
                    held.get(c).ack(seq); // beyond its window (128) the rest waits for acknowledgements
                }
            }
        }
    }
}
