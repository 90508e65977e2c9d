package io.switchboard.options;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * How every {@code switchboard} command line behaves: a failure exits 1, a usage error exits 2 with one line and a
 * pointer to {@code --help}, never a stack trace. Shared by the launcher's entry point and by each module's tests,
 * which run their own subcommand under the same root name.
 */
public final class CommandLines {
    private CommandLines() {}

    /** Applies the shared exit codes and usage-error handling to {@code cl}; returns it. */
    public static CommandLine configure(CommandLine cl) {
        cl.setExitCodeExceptionMapper(t -> 1);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("switchboard: " + ex.getMessage());
            cmd.getErr().println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
            return 2;
        });
        return cl;
    }

    /** A {@code switchboard} root with just {@code subcommands}, configured like the real one (for tests). */
    public static CommandLine rootWith(Object... subcommands) {
        CommandLine cl = new CommandLine(new Root());
        for (Object s : subcommands) {
            cl.addSubcommand(s);
        }
        return configure(cl);
    }

    @Command(name = "switchboard", mixinStandardHelpOptions = true)
    static final class Root implements Runnable {
        @Override
        public void run() {
        }
    }
}
