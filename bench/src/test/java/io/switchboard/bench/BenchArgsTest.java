package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchArgsTest {

    @Test
    void shouldExpandSourceRangesAndSingleAddressesInOrder() throws Exception {
        List<InetAddress> s = BenchArgs.sources("127.0.0.254-127.0.1.1,10.0.0.7");
        assertEquals(List.of(InetAddress.getByName("127.0.0.254"), InetAddress.getByName("127.0.0.255"),
                InetAddress.getByName("127.0.1.0"), InetAddress.getByName("127.0.1.1"),
                InetAddress.getByName("10.0.0.7")), s);
        assertTrue(BenchArgs.sources(null).isEmpty());
    }

    @Test
    void shouldRefuseBackwardsOversizedOrMalformedRanges() {
        assertThrows(IllegalArgumentException.class, () -> BenchArgs.sources("127.0.0.9-127.0.0.2"));
        assertThrows(IllegalArgumentException.class, () -> BenchArgs.sources("10.0.0.0-10.2.0.0"));
        assertThrows(IllegalArgumentException.class, () -> BenchArgs.sources("127.0.0.300-127.0.0.301"));
        assertThrows(IllegalArgumentException.class, () -> BenchArgs.sources("1.2.3-1.2.4"));
    }

    @Test
    void shouldParseDurationsWithUnitsAndBareSeconds() {
        assertEquals(Duration.ofMillis(500), BenchArgs.duration("500ms"));
        assertEquals(Duration.ofSeconds(60), BenchArgs.duration("60s"));
        assertEquals(Duration.ofSeconds(60), BenchArgs.duration("60"));
        assertEquals(Duration.ofMinutes(5), BenchArgs.duration("5m"));
        assertEquals(Duration.ofHours(1), BenchArgs.duration("1h"));
        assertThrows(IllegalArgumentException.class, () -> BenchArgs.duration("soon"));
    }

    @Test
    void shouldParseTargetsAndRefuseMissingOrBadPorts() {
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 7000), new InetSocketAddress("localhost", 7001)),
                BenchArgs.targets("127.0.0.1:7000, localhost:7001"));
        assertThrows(IllegalArgumentException.class, () -> BenchArgs.targets("127.0.0.1"));
        assertThrows(IllegalArgumentException.class, () -> BenchArgs.targets("127.0.0.1:x"));
        assertThrows(IllegalArgumentException.class, () -> BenchArgs.targets("127.0.0.1:70000"));
    }
}
