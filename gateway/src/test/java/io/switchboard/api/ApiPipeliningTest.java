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
}
