package io.switchboard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder while the client command is being written; exits 1 so nothing mistakes it for working. */
@Command(name = "client", description = "(not built yet)")
public final class ClientCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("switchboard client: not built yet");
        return 1;
    }
}
