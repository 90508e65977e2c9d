package io.switchboard.options;

import java.util.List;
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
            if (ex instanceof CommandLine.UnmatchedArgumentException unmatched) {
                String suggestion = suggestion(unmatched);
                if (suggestion != null) {
                    cmd.getErr().println(suggestion);
                }
            }
            cmd.getErr().println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
            return 2;
        });
        return cl;
    }

    /**
     * "Did you mean server?" for a mistyped subcommand or option (picocli's nearest names, at most three), or null
     * when nothing is near.
     */
    static String suggestion(CommandLine.UnmatchedArgumentException ex) {
        List<String> near = ex.getSuggestions();
        if (near == null || near.isEmpty()) {
            return null;
        }
        return "Did you mean " + String.join(" or ", near.subList(0, Math.min(3, near.size()))) + "?";
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
