package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The newest connection of a client id wins; the older one is told why and closed. */
@Timeout(30)
class GatewayTakeoverTest {
    private final GatewayFixture gw = new GatewayFixture();

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldCloseOlderConnectionWhenTheSameClientIdConnectsAgain() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("phone");
        gw.push("phone", "m1");
        assertEquals(1, first.readMsg().seq());
        first.ack(1);
        first.sync();

        SwbTestClient second = gw.connect();
        assertEquals("WELCOME phone v=1 hb=60 seq=1", second.hello("phone"));
        assertEquals("BYE 409 taken over", first.readLine());
        first.expectEof();

        JsonNode info = gw.clientInfo("phone");
        assertTrue(info.get("online").asBoolean());
        assertEquals(second.localAddress(), info.get("remote").asText());
        assertEquals(1, gw.stats().get("takeovers_total").asLong());
        gw.assertRefusals("taken_over", 1);

        assertEquals(2, gw.push("phone", "m2").json().get("seq").asLong());
        SwbTestClient.Msg m = second.readMsg();
        assertEquals(2, m.seq());
        assertEquals("m2", m.text());
    }

    @Test
    void shouldResendUnackedRetainedMessagesToTheConnectionThatTookOver() throws Exception {
        gw.start();
        SwbTestClient first = gw.hello("laptop");
        gw.api().post("/v1/clients/laptop/messages?ttl=60", "keep");
        gw.push("laptop", "volatile");
        assertEquals(1, first.readMsg().seq());
        assertEquals(2, first.readMsg().seq());

        SwbTestClient second = gw.connect();
        assertEquals("WELCOME laptop v=1 hb=60 seq=2", second.hello("laptop", "resume=0"));
        SwbTestClient.Msg m = second.readMsg();
        assertEquals(1, m.seq());
        assertEquals("keep", m.text());
        second.sync(); // the ttl=0 message was for the old connection only
        first.expectLine("BYE 409 taken over");
    }

    @Test
    void shouldLetEveryNewerConnectionWinInTurn() throws Exception {
        gw.start();
        SwbTestClient previous = gw.hello("hopper");
        for (int i = 0; i < 5; i++) {
            SwbTestClient next = gw.hello("hopper");
            assertEquals("BYE 409 taken over", previous.readLine());
            previous.expectEof();
            previous = next;
        }
        previous.sync();
        assertEquals(1, gw.stats().get("sessions_online").asLong());
        assertEquals(5, gw.stats().get("takeovers_total").asLong());
    }
}
