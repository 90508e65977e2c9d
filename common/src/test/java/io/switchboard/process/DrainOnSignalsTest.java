package io.switchboard.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DrainOnSignalsTest {
    @Test
    void theFirstSignalDrainsAndTheSecondStopsAtOnce() {
        DrainOnSignals s = new DrainOnSignals();
        assertEquals(DrainOnSignals.Action.DRAIN, s.onSignal(false));
        assertEquals(DrainOnSignals.Action.STOP_NOW, s.onSignal(true));
    }

    @Test
    void aSignalDuringADrainStartedThroughTheApiIsNotASecondOne() {
        // A deploy's preStop hook posts /v1/drain, then the orchestrator sends SIGTERM: the drain goes on (it was
        // taken for a second signal: stopped at once, exit 1, clients cut without BYE, MQTT wills published).
        DrainOnSignals s = new DrainOnSignals();
        assertEquals(DrainOnSignals.Action.ALREADY_DRAINING, s.onSignal(true));
        assertEquals(DrainOnSignals.Action.STOP_NOW, s.onSignal(true), "a second signal still stops at once");
    }
}
