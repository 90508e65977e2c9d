package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.options.CidrList;
import io.switchboard.options.CommandLines;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** Parsing of the proxy's options, the metrics endpoint and the command's usage errors. */
@Timeout(30)
class ProxyOptionsTest {

    @Test
    void shouldParseSourceListsAndRanges() throws Exception {
        List<InetAddress> s = Addresses.sources("--source", "10.0.0.1,127.0.0.2-4, 127.0.0.250-127.0.1.1");
        assertEquals(List.of("10.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.250", "127.0.0.251",
                        "127.0.0.252", "127.0.0.253", "127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1"),
                s.stream().map(InetAddress::getHostAddress).toList());
        assertThrows(IllegalArgumentException.class, () -> Addresses.sources("--source", "127.0.0.9-2"));
        assertThrows(IllegalArgumentException.class, () -> Addresses.sources("--source", "example.com"));
        assertEquals(List.of(40000, 40049), java.util.Arrays.stream(Addresses.portRange("--source-ports",
                "40000-40049")).boxed().toList());
        assertThrows(IllegalArgumentException.class, () -> Addresses.portRange("--source-ports", "5-1"));
        assertEquals(8443, Addresses.hostPort("--upstream", "[::1]:8443").getPort());
    }

    @Test
    void shouldMatchCidrBlocks() throws Exception {
        CidrList l = CidrList.parse("--allow", "10.0.0.0/8, 192.0.2.128/25, ::1, 2001:db8::/32");
        assertTrue(l.contains(InetAddress.getByName("10.255.1.2")));
        assertTrue(l.contains(InetAddress.getByName("192.0.2.200")));
        assertFalse(l.contains(InetAddress.getByName("192.0.2.100")));
        assertTrue(l.contains(InetAddress.getByName("::1")));
        assertTrue(l.contains(InetAddress.getByName("2001:db8:ffff::9")));
        assertFalse(l.contains(InetAddress.getByName("11.0.0.1")));
        assertTrue(CidrList.parse("--deny", "0.0.0.0/0").contains(InetAddress.getByName("203.0.113.1")));
        assertThrows(IllegalArgumentException.class, () -> CidrList.parse("--deny", "10.0.0.0/33"));
    }

    @Test
    void shouldServePrometheusMetrics() throws Exception {
        try (ProxyFixture fx = new ProxyFixture()) {
            TestUpstream echo = fx.upstream(TestUpstream.ECHO);
            fx.config.metricsPort = 0;
            fx.start(echo.address());
            Bytes.roundTrip(fx.connect(), "count me");
            try (HttpClient http = HttpClient.newHttpClient()) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + fx.proxy().metricsPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                String body = r.body();
                assertTrue(body.contains("switchboard_proxy_connections_total 1\n"), body);
                assertTrue(body.contains("switchboard_proxy_connections_active 1\n"), body);
                assertTrue(body.contains("switchboard_proxy_bytes_total{direction=\"client_to_upstream\"} 8\n"), body);
                assertTrue(body.contains("switchboard_proxy_upstream_up{listen=\"127.0.0.1:0\",upstream=\"127.0.0.1:" + echo.port()
                        + "\"} 1\n"), body);
                assertTrue(body.contains("switchboard_proxy_connect_errors_total{kind=\"no_source_port\"} 0\n"), body);
            }
        }
    }

    @Test
    void shouldExitWithUsageErrorForBadOptions() {
        StringWriter err = new StringWriter();
        CommandLine cl = CommandLines.rootWith(new ProxyCommand());
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1",
                "--balance", "random"));
        assertTrue(err.toString().contains("--balance must be rr or least"), err.toString());
        assertEquals(2, cl.execute("proxy", "--listen", "127.0.0.1:0"));
    }
}
