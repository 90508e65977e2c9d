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
        System.exit(newCommandLine().execute(args));
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
