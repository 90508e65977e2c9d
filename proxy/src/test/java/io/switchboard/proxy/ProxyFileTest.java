package io.switchboard.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.options.CommandLines;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The config file: globals, route defaults, listen blocks, and one-line errors that name the line. */
class ProxyFileTest {

    private static ProxyConfig parse(String... lines) {
        return ProxyFile.parse("proxy.conf", List.of(lines));
    }

    private static String error(String... lines) {
        return assertThrows(IllegalArgumentException.class, () -> parse(lines)).getMessage();
    }

    @Test
    void shouldReadGlobalsDefaultsAndSeveralListeners() {
        ProxyConfig c = parse(
                "# a comment",
                "max-connections 5000",
                "source 127.0.0.2-4",
                "idle-timeout 600            # default for every listener",
                "tcp-keepalive off",
                "",
                "listen 127.0.0.1:7443",
                "  upstream 127.0.0.1:7000,127.0.0.1:7001",
                "  balance least",
                "  send-proxy v2",
                "  accept-proxy",
                "listen 127.0.0.1:1883",
                "  upstream 127.0.0.1:1884",
                "  idle-timeout 0",
                "  allow 10.0.0.0/8");
        assertEquals(5000, c.maxConnections);
        assertEquals(3, c.sources.size());
        assertFalse(c.tcpKeepalive);
        assertEquals(2, c.routes.size());
        RouteConfig a = c.routes.get(0);
        assertEquals(7443, a.listen.getPort());
        assertEquals(2, a.upstreams.size());
        assertEquals(RouteConfig.Balance.LEAST, a.balance);
        assertEquals(RouteConfig.SendProxy.V2, a.sendProxy);
        assertTrue(a.acceptProxy);
        assertEquals(600, a.idleTimeoutSec, "the global default");
        RouteConfig b = c.routes.get(1);
        assertEquals(0, b.idleTimeoutSec, "overridden in the block");
        assertEquals(RouteConfig.Balance.RR, b.balance, "block settings do not leak into the next block");
        assertFalse(b.acceptProxy);
        assertEquals(1, b.allow.size());
        assertNull(c.file);
    }

    @Test
    void shouldLetABlockSwitchOffAGlobalDefault() {
        ProxyConfig c = parse("accept-proxy yes", "listen 127.0.0.1:1", "upstream 127.0.0.1:2",
                "listen 127.0.0.1:3", "upstream 127.0.0.1:4", "accept-proxy no");
        assertTrue(c.routes.get(0).acceptProxy);
        assertFalse(c.routes.get(1).acceptProxy);
    }

    @Test
    void shouldNameTheLineOfEveryMistake() {
        assertTrue(error("listen 127.0.0.1:1", "upstream 127.0.0.1:2", "bogus 3").startsWith("proxy.conf:3: unknown "
                + "setting 'bogus'"), error("listen 127.0.0.1:1", "upstream 127.0.0.1:2", "bogus 3"));
        String m = error("listen 127.0.0.1:1", "upstream 127.0.0.1:2", "max-connections 5");
        assertTrue(m.startsWith("proxy.conf:3: 'max-connections' is a global setting"), m);
        m = error("max-connections many", "listen 127.0.0.1:1", "upstream 127.0.0.1:2");
        assertTrue(m.startsWith("proxy.conf:1: "), m);
        m = error("listen 127.0.0.1:1", "upstream 127.0.0.1:2", "balance random");
        assertTrue(m.startsWith("proxy.conf:1: --balance must be rr or least"), m);
        m = error("listen 127.0.0.1:1");
        assertTrue(m.contains("--upstream") && m.startsWith("proxy.conf:1: "), m);
        m = error("max-connections 5");
        assertTrue(m.contains("no listen block"), m);
        m = error("listen 127.0.0.1:1", "upstream 127.0.0.1:2", "listen 127.0.0.1:1", "upstream 127.0.0.1:3");
        assertTrue(m.contains("appears twice"), m);
        m = error("listen 127.0.0.1:1", "upstream 127.0.0.1:2", "retries");
        assertTrue(m.startsWith("proxy.conf:3: retries wants a value"), m);
        m = error("reuse-port maybe", "listen 127.0.0.1:1", "upstream 127.0.0.1:2");
        assertTrue(m.startsWith("proxy.conf:1: reuse-port is on or off"), m);
    }

    @Test
    void shouldRefuseOtherOptionsNextToConfigAndReadTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("proxy.conf");
        Files.writeString(f, "listen 127.0.0.1:0\nupstream 127.0.0.1:9\n");
        ProxyConfig c = ProxyFile.load(f);
        assertEquals(f, c.file);

        StringWriter err = new StringWriter();
        CommandLine cl = CommandLines.rootWith(new ProxyCommand());
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("proxy", "--config", f.toString(), "--max-connections", "5"));
        assertTrue(err.toString().contains("move --max-connections into it"), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, cl.execute("proxy", "--config", dir.resolve("missing.conf").toString()));
        assertTrue(err.toString().contains("cannot read"), err.toString());
    }
}
