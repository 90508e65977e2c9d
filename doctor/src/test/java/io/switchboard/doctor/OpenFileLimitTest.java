package io.switchboard.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The open-file limit a server reads at start, and the connections it allows after the doctor's reserve. */
class OpenFileLimitTest {

    @Test
    void shouldReadTheSoftLimitOfThisProcess(@TempDir Path dir) {
        FixtureTree fx = new FixtureTree(dir);
        fx.limits("self", 19_936, 20_000);
        assertEquals(OptionalLong.of(19_936), OpenFileLimit.current(dir));
    }

    @Test
    void shouldKnowNoLimitWhereItCannotBeRead(@TempDir Path empty) {
        assertEquals(OptionalLong.empty(), OpenFileLimit.current(empty));
    }

    @Test
    void shouldLeaveTheReserveTheDoctorCounts() {
        assertEquals(19_936 - ConnectionCost.RESERVED_FDS, OpenFileLimit.serverConnections(19_936));
        assertEquals(0, OpenFileLimit.serverConnections(10));
    }
}
