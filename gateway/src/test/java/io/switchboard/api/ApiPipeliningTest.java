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

/** A backend that pipelines many small requests in one write gets every answer, in order, on one connection. */
@Timeout(60)
class ApiPipeliningTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void close() {
        gw.close();
    }

    @Test
    void aThousandPipelinedRequestsInOneWriteAreAllAnswered() throws Exception {
        gw.start();
        int n = 1000; // ~40 KB: far more requests in one read than Netty's default pipeline depth of 128
        String request = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
        try (Socket s = new Socket("127.0.0.1", gw.server().apiPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.repeat(n).getBytes(StandardCharsets.US_ASCII));
            out.flush();
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
                answers = got.toString().split("HTTP/1.1 200 OK", -1).length - 1;
            }
            assertEquals(n, answers, "every pipelined request answered before the connection ended");
        }
    }
}
