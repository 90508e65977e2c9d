package io.switchboard.process;

import java.util.function.BooleanSupplier;

/**
 * SIGTERM and SIGINT start a graceful drain; a second signal while draining stops at once (exit 1). Shared by the
 * long-running commands (server, proxy). Installed once per process.
 */
public final class DrainOnSignals {
    private DrainOnSignals() {}

    /**
     * @param command   the command's name for the one-line messages ("switchboard server")
     * @param draining  whether a drain is already under way
     * @param drain     starts the drain (returns at once)
     * @param stopNow   stops everything at once, before the process halts
     * @param drainText how the drain proceeds, for the message ("draining over 10 s")
     */
    @SuppressWarnings("restriction")
    public static void install(String command, BooleanSupplier draining, Runnable drain, Runnable stopNow, String drainText) {
        sun.misc.SignalHandler handler = sig -> {
            if (draining.getAsBoolean()) {
                System.err.println(command + ": second " + sig.getName() + ", stopping now");
                stopNow.run();
                Runtime.getRuntime().halt(1);
            }
            System.err.println(command + ": " + sig.getName() + " received, " + drainText);
            drain.run();
        };
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
    }
}
