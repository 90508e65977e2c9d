package io.switchboard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder while the server command is being written; exits 1 so nothing mistakes it for working. */
@Command(name = "server", description = "(not built yet)")
public final class ServerCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("switchboard server: not built yet");
        return 1;
    }
}
