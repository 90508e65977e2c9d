package io.switchboard.cli;

import io.switchboard.options.CommandLines;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the {@code switchboard} command line: one subcommand class per capability.
 * Exit codes: 0 success, 1 failure or target not reached, 2 usage error.
 */
@Command(name = "switchboard",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Millions of idle TCP connections; push to any of them.",
        subcommands = {
                io.switchboard.server.ServerCommand.class,
                io.switchboard.bench.BenchCommand.class,
                io.switchboard.bench.PushLoadCommand.class,
                io.switchboard.proxy.ProxyCommand.class,
                ClientCommand.class,
                io.switchboard.doctor.DoctorCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        quietNettyFlightRecorderEvents();
        System.exit(newCommandLine().execute(args));
    }

    /**
     * Netty's buffer allocator announces its chunks as Flight Recorder events whenever the JVM has a Flight Recorder,
     * recording or not: loading its first event class starts the recorder's metadata (~110 classes, ~1,400 annotation
     * objects), 1.2-1.5 MB of an idle gateway's 42 MB of private dirty memory (3 runs each, launcher defaults). Off
     * unless asked for ({@code JAVA_OPTS=-Dio.netty.jfr.enabled=true}); the JDK's own events are untouched. Set before
     * any Netty class is loaded.
     */
    static void quietNettyFlightRecorderEvents() {
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
    }

    /** The configured command line, shared by {@link #main} and tests. */
    public static CommandLine newCommandLine() {
        return CommandLines.configure(new CommandLine(new Main()));
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"switchboard " + (v == null ? "dev" : v)};
        }
    }
}
