package io.switchboard.process;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * SIGTERM, SIGINT and SIGHUP start a graceful drain; a second signal stops at once (exit 1). A drain already under way
 * when the first signal comes (started through the API, as a deploy's preStop hook does before the orchestrator's
 * SIGTERM) goes on: that signal is not a second one. Shared by the long-running commands (server, proxy). Installed
 * once per process. SIGHUP is left alone when the process was started ignoring it ({@code nohup}).
 */
public final class DrainOnSignals {
    /** What a signal does. */
    enum Action { DRAIN, ALREADY_DRAINING, STOP_NOW }

    private final AtomicInteger signals = new AtomicInteger();

    DrainOnSignals() {
    }

    /** The action for one more signal, {@code draining} telling whether a drain is under way already. */
    Action onSignal(boolean draining) {
        if (signals.incrementAndGet() > 1) {
            return Action.STOP_NOW;
        }
        return draining ? Action.ALREADY_DRAINING : Action.DRAIN;
    }

    /**
     * @param command   the command's name for the one-line messages ("switchboard server")
     * @param draining  whether a drain is already under way
     * @param drain     starts the drain (returns at once)
     * @param stopNow   stops everything at once, before the process halts
     * @param drainText how the drain proceeds, for the message ("draining over 10 s")
     */
    @SuppressWarnings("restriction")
    public static void install(String command, BooleanSupplier draining, Runnable drain, Runnable stopNow,
                               String drainText) {
        DrainOnSignals counted = new DrainOnSignals();
        sun.misc.SignalHandler handler = sig -> {
            switch (counted.onSignal(draining.getAsBoolean())) {
                case STOP_NOW -> {
                    System.err.println(command + ": second " + sig.getName() + ", stopping now");
                    stopNow.run();
                    Runtime.getRuntime().halt(1);
                }
                case ALREADY_DRAINING -> System.err.println(command + ": " + sig.getName()
                        + " received while a drain is under way: going on with it (another signal stops at once)");
                case DRAIN -> {
                    System.err.println(command + ": " + sig.getName() + " received, " + drainText);
                    drain.run();
                }
            }
        };
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), handler); // the terminal closed: drain, not a hard exit
    }
}
