package io.switchboard.doctor;

import java.util.Locale;
import java.util.Optional;

/**
 * What a Switchboard process does with its connections, which decides what each one costs and
 * which limits apply. Immutable.
 */
public enum Role {
    /** Accepts client connections: one socket and one file per connection. */
    SERVER(1, true, false),
    /** Forwards each accepted connection to an upstream: two sockets and two files per connection. */
    PROXY(2, true, true),
    /** The load generator: opens one connection per simulated client, drawing local ports. */
    CLIENT(1, false, true);

    private final int socketsPerConnection;
    private final boolean accepts;
    private final boolean opensOutbound;

    Role(int socketsPerConnection, boolean accepts, boolean opensOutbound) {
        this.socketsPerConnection = socketsPerConnection;
        this.accepts = accepts;
        this.opensOutbound = opensOutbound;
    }

    /** Kernel sockets, and so open files, epoll watches and conntrack entries, per connection. */
    public int socketsPerConnection() {
        return socketsPerConnection;
    }

    /** Whether the role listens, so accept-queue limits matter. */
    public boolean accepts() {
        return accepts;
    }

    /** Whether the role opens outbound connections, so local ports matter. */
    public boolean opensOutbound() {
        return opensOutbound;
    }

    /** The name used on the command line and in JSON. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code server}, {@code proxy} or {@code client} ({@code bench} is the client), any case. */
    public static Optional<Role> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "server" -> Optional.of(SERVER);
            case "proxy" -> Optional.of(PROXY);
            case "client", "bench" -> Optional.of(CLIENT);
            default -> Optional.empty();
        };
    }
}
