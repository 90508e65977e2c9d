package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.doctor.ConnectionCost;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A gateway process started under {@code ulimit -n 300} and without {@code --max-connections} takes as many clients as
 * its open-file limit leaves room for (300 less the doctor's reserve) and tells the next one {@code BYE 429}, instead
 * of leaving it in the accept queue.
 */
@Timeout(120)
class GatewayFileLimitProcessTest {
    private static final int OPEN_FILES = 300;

    @Test
    void shouldRefuseClientsPastWhatTheOpenFileLimitAllowsByDefault() throws Exception {
        int allowed = (int) (OPEN_FILES - ConnectionCost.RESERVED_FDS);
        try (ServerProcess server = ServerProcess.start("ulimit -n " + OPEN_FILES, List.of("-Xmx64m"),
                "--event-loops", "1", "--drain-period", "0")) {
            assertTrue(server.output().contains("max-connections " + allowed + " (what the open-file limit allows)"),
                    server.output());
            List<SwbTestClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < allowed; i++) {
                    SwbTestClient c = SwbTestClient.connect("127.0.0.1", server.port(), null);
                    clients.add(c);
                    c.hello("c" + i); // welcomed one after the other: the server has counted each
                }
                SwbTestClient past = SwbTestClient.connect("127.0.0.1", server.port(), null);
                clients.add(past);
                String bye = past.readLine();
                assertTrue(bye != null && bye.matches("BYE 429 too many connections( retry=\\d+)?"), bye);
            } finally {
                clients.forEach(SwbTestClient::close); // before the server's drain, which would wait for them
            }
        }
    }
}
