package io.switchboard.protocol.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What a close frame says for each way a connection ends. */
class CloseCodeTest {
    @Test
    void anMqttClientSentAwayForTheServersConditionIsToldToTryAgainLaterNotThatItViolatedAPolicy() {
        assertEquals(1013, WebSocketFraming.closeCode(-0x80), "the upstream cannot take its PUBLISH for now");
        assertEquals(1013, WebSocketFraming.closeCode(-0x89), "server busy");
        assertEquals(1013, WebSocketFraming.closeCode(-0x97), "quota exceeded");
        assertEquals(1008, WebSocketFraming.closeCode(-0x82), "a protocol error stays the client's");
        assertEquals(1009, WebSocketFraming.closeCode(-0x95), "packet too large");
        assertEquals(1013, WebSocketFraming.closeCode(429));
        assertEquals(4401, WebSocketFraming.closeCode(401));
    }
}
