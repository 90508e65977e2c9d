package io.switchboard.server;

import picocli.CommandLine;

/** {@code switchboard server} as a main class on the gateway's test class path, for tests that start a process. */
public final class ServerMain {
    private ServerMain() {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ServerCommand()).execute(args));
    }
}
