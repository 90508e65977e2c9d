package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.switchboard.config.ServerConfig;
import io.switchboard.doctor.OpenFileLimit;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** The settings that bound the gateway's memory and files: {@code --max-queued-total}, {@code --max-connections}. */
class MemorySettingsTest {

    @Test
    void shouldBudgetAQuarterOfTheMaximumHeapForQueuedBytesByDefault() {
        assertEquals(Runtime.getRuntime().maxMemory() / 4, ServerConfig.DEFAULTS.maxQueuedTotalBytes);
        assertEquals(Runtime.getRuntime().maxMemory() / 4, parse().maxQueuedTotalBytes);
    }

    @ParameterizedTest
    @CsvSource({"1048576, 1048576", "512k, 524288", "256m, 268435456", "256M, 268435456", "1g, 1073741824",
            "2t, 2199023255552"})
    void shouldTakeTheQueuedTotalAsASize(String word, long bytes) {
        assertEquals(bytes, parse("--max-queued-total=" + word).maxQueuedTotalBytes);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--max-queued-total=lots|--max-queued-total must be a size in bytes such as 1048576, 512k, 256m or 1g, "
                    + "not 'lots'",
            "--max-queued-total=-1m|--max-queued-total must be a size in bytes such as 1048576, 512k, 256m or 1g, "
                    + "not '-1m'",
            "--max-queued-total=99999999999t|--max-queued-total must be a size in bytes such as 1048576, 512k, 256m "
                    + "or 1g, not '99999999999t'",
            "--max-queued-total=1k|--max-queued-total (1024) must be at least --max-payload (65536) + 64"})
    void shouldNameTheOptionOfAnInvalidQueuedTotal(String arg, String message) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> parse(arg)).getMessage());
    }

    @Test
    void shouldDefaultMaxConnectionsToWhatTheOpenFileLimitAllows() {
        assertEquals(19_872, ServerConfig.Builder.defaultMaxConnections(OptionalLong.of(19_936)),
                "19,936 files less the 64 the doctor reserves");
        assertEquals(1_048_512, ServerConfig.Builder.defaultMaxConnections(OptionalLong.of(1 << 20)));
        assertEquals(1, ServerConfig.Builder.defaultMaxConnections(OptionalLong.of(10)), "at least one");
        assertEquals(Integer.MAX_VALUE, ServerConfig.Builder.defaultMaxConnections(OptionalLong.of(Long.MAX_VALUE)),
                "unlimited");
        assertEquals(1_000_000, ServerConfig.Builder.defaultMaxConnections(OptionalLong.empty()), "unknown");
        assertEquals(ServerConfig.Builder.defaultMaxConnections(OpenFileLimit.current()),
                ServerConfig.DEFAULTS.maxConnections, "this process's limit");
        assertEquals(5, parse("--max-connections=5").maxConnections, "an explicit value wins");
    }

    private static ServerConfig parse(String... args) {
        ServerCommand cmd = new ServerCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.toConfig();
    }
}
