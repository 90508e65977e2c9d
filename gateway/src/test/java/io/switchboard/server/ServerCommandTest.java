package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.config.ServerConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code switchboard server} options that reach {@link ServerConfig}. */
class ServerCommandTest {

    @Test
    void shouldAcceptProxyHeadersOnlyWhenAsked() {
        ServerConfig off = parse();
        assertFalse(off.acceptProxy);
        assertEquals(10, off.acceptProxyTimeoutSec);

        ServerConfig on = parse("--accept-proxy", "--accept-proxy-timeout", "3");
        assertTrue(on.acceptProxy);
        assertEquals(3, on.acceptProxyTimeoutSec);
        assertThrows(IllegalArgumentException.class, () -> parse("--accept-proxy-timeout", "0"));
    }

    @Test
    void shouldDescribeAcceptProxyInTheHelp() {
        String help = new CommandLine(new ServerCommand()).getUsageMessage(CommandLine.Help.Ansi.OFF);
        assertTrue(help.contains("--accept-proxy"), help);
        assertTrue(help.contains("--accept-proxy-timeout"), help);
    }

    private static ServerConfig parse(String... args) {
        ServerCommand cmd = new ServerCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.toConfig();
    }
}
