package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.config.ServerConfig;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Each gateway setting is declared once: what {@code --help} shows is what the configuration uses. */
class ServerSettingsTest {

    @Test
    void shouldUseTheDefaultsTheHelpShows() {
        assertSameSettings(ServerConfig.DEFAULTS, new ServerConfig.Builder().build(), "a new builder");
        assertSameSettings(ServerConfig.DEFAULTS, parse(), "no options");
        CommandLine cl = new CommandLine(new ServerCommand());
        String help = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
        List<String> checked = new ArrayList<>();
        for (OptionSpec o : cl.getCommandSpec().options()) {
            String shown = o.defaultValueString();
            if (o.usageHelp() || o.versionHelp() || o.arity().max() == 0 || shown == null || shown.equals("null")) {
                continue;
            }
            assertTrue(help.contains("Default: " + shown), o.longestName() + " shows its default in --help");
            assertSameSettings(ServerConfig.DEFAULTS, parse(o.longestName() + "=" + shown),
                    o.longestName() + "'s default as --help shows it");
            checked.add(o.longestName());
        }
        assertTrue(checked.containsAll(List.of("--transport", "--port", "--max-connections", "--seq-origin",
                "--tcp-keepidle", "--write-buffer-high", "--jwt-leeway")), checked.toString());
    }

    @Test
    void shouldSwitchTcpKeepaliveBothWays() {
        assertTrue(parse().tcpKeepalive);
        assertTrue(parse("--tcp-keepalive").tcpKeepalive);
        assertFalse(parse("--no-tcp-keepalive").tcpKeepalive);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--port=70000|--port must be between 0 and 65535, not 70000",
            "--tcp-keepcnt=200|--tcp-keepcnt must be between 0 and 127, not 200",
            "--transport=foo|--transport must be epoll, io_uring or nio, not 'foo'",
            "--seq-origin=foo|--seq-origin must be clock or zero, not 'foo'",
            "--auth=foo|--auth must be none or jwt, not 'foo'",
            "--jwt-secret=x|--jwt-secret/--jwt-public-key need --auth jwt",
            "--hb-max=4|--hb-max must be between 5 and 86400, not 4",
            "--max-queued-bytes=10|--max-queued-bytes (10) must be at least --max-payload (65536)",
            "--write-buffer-high=0|write buffer watermarks must satisfy 0 < low <= high",
            "--node=a/b|--node must be 1-128 characters of [A-Za-z0-9._:@-]",
            "--cluster=redis://127.0.0.1:6379|--cluster needs --node NAME, a name unique among the nodes",
            "--cluster=127.0.0.1:6379|--cluster takes redis://HOST:PORT or rediss://HOST:PORT, not '127.0.0.1:6379'",
            "--cluster-timeout=5|--cluster-timeout must be between 10 and 60000 ms, not 5",
            "--cluster-link=7100|--cluster-link takes HOST:PORT (PORT 0: any free port) or off, not '7100'",
            "--cluster-link=h:70000|--cluster-link takes HOST:PORT (PORT 0: any free port) or off, not 'h:70000'",
            "--cluster-link=:7100|--cluster-link takes HOST:PORT (PORT 0: any free port) or off, not ':7100'"})
    void shouldNameTheOptionOfAnInvalidSetting(String arg, String message) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> parse(arg)).getMessage());
    }

    @Test
    void shouldWantTlsForTheClusterCertificates() {
        assertEquals("--cluster-tls-ca needs --cluster rediss://... (TLS)", assertThrows(IllegalArgumentException.class,
                () -> parse("--cluster=redis://127.0.0.1:6379", "--node=a", "--cluster-tls-ca=/etc/hosts"))
                .getMessage());
    }

    @Test
    void shouldNameTheClusterCaFileThatCannotBeRead() {
        assertEquals("--cluster-tls-ca: cannot read /nonexistent/ca.pem", assertThrows(IllegalArgumentException.class,
                () -> parse("--cluster=rediss://127.0.0.1:6379", "--node=a", "--cluster-tls-ca=/nonexistent/ca.pem"))
                .getMessage());
    }

    @Test
    void shouldLinkNodesDirectlyUnlessToldOff() {
        ServerConfig plain = parse("--cluster=redis://127.0.0.1:6379", "--node=a");
        assertTrue(plain.clusterLinks);
        assertEquals(null, plain.clusterLinkHost, "the address towards Redis");
        assertFalse(parse("--cluster=redis://127.0.0.1:6379", "--node=a", "--cluster-link=off").clusterLinks);
        assertTrue(parse("--cluster=rediss://127.0.0.1:6379", "--node=a").clusterLinks, "with TLS, as Redis");
        assertFalse(parse("--cluster=rediss://127.0.0.1:6379", "--node=a", "--cluster-link=off").clusterLinks);
        ServerConfig pinned = parse("--cluster=rediss://127.0.0.1:6379", "--node=a", "--cluster-link=[::1]:7100");
        assertTrue(pinned.clusterLinks);
        assertEquals("::1", pinned.clusterLinkHost);
        assertEquals(7100, pinned.clusterLinkPort);
    }

    @Test
    void shouldTakeTheCommandLineWords() {
        ServerConfig c = parse("--transport=nio", "--seq-origin=zero", "--write-buffer-high=1000", "--api-token=");
        assertEquals(io.switchboard.transport.Transport.NIO, c.transport);
        assertFalse(c.seqOriginFromClock);
        assertEquals(500, c.writeBufferLowBytes);
        assertEquals(null, c.apiToken, "an empty token is no token");
    }

    @Test
    void shouldBeImmutable() throws Exception {
        ServerConfig any = new ServerConfig.Builder().build();
        for (Field f : ServerConfig.class.getFields()) {
            assertTrue(Modifier.isFinal(f.getModifiers()), f.getName() + " is final");
            Class<?> t = f.getType();
            if (t == java.util.List.class && !Modifier.isStatic(f.getModifiers())) {
                java.util.List<?> list = (java.util.List<?>) f.get(any);
                assertThrows(UnsupportedOperationException.class, () -> list.add(null),
                        f.getName() + " is an unmodifiable list");
                continue;
            }
            assertTrue(t.isPrimitive() || t == String.class || t.isEnum() || t == ServerConfig.class
                            || t == java.nio.file.Path.class,
                    f.getName() + " holds an immutable value, not " + t);
        }
        assertEquals(0, ServerConfig.class.getConstructors().length, "made only by the builder");
        ServerConfig.Builder b = new ServerConfig.Builder();
        ServerConfig built = b.build();
        b.port = 1;
        assertEquals(7000, built.port, "changing the builder afterwards changes nothing built");
    }

    private static ServerConfig parse(String... args) {
        ServerCommand cmd = new ServerCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.toConfig();
    }

    private static void assertSameSettings(ServerConfig expected, ServerConfig actual, String what) {
        for (Field f : ServerConfig.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            try {
                assertTrue(Objects.equals(f.get(expected), f.get(actual)),
                        what + ": " + f.getName() + " is " + f.get(actual) + ", the default " + f.get(expected));
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
    }
}
