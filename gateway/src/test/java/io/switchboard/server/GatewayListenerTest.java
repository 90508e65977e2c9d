package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class GatewayListenerTest {
    @Test
    void shouldNameTheProtocolAndAddressWhenThePortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             GatewayFixture gw = new GatewayFixture()) {
            gw.config.port = taken.getLocalPort();
            IllegalStateException e = assertThrows(IllegalStateException.class, gw::start);
            assertTrue(e.getMessage().startsWith("cannot listen for swb clients on 127.0.0.1:" + taken.getLocalPort()
                    + ": "), e.getMessage());
        }
    }
}
