package io.switchboard.proxy;

import io.netty.channel.ConnectTimeoutException;
import java.net.BindException;
import java.net.NoRouteToHostException;
import java.util.Locale;

/** Why an upstream connect failed, as a metric label. {@link #NO_SOURCE_PORT} is EADDRNOTAVAIL at connect. */
enum ConnectError {
    REFUSED, TIMEOUT, UNREACHABLE, NO_SOURCE_PORT, OTHER;

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the upstream is to blame (counts towards marking it down); a local port shortage is not. */
    boolean blamesUpstream() {
        return this != NO_SOURCE_PORT;
    }

    static ConnectError classify(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof ConnectTimeoutException) {
                return TIMEOUT;
            }
            String m = t.getMessage() == null ? "" : t.getMessage();
            // Netty's native transports report errno text; with IP_BIND_ADDRESS_NO_PORT the port shortage shows at
            // connect() as EADDRNOTAVAIL (99), without it at bind() as EADDRINUSE.
            if (m.contains("Cannot assign requested address") || m.contains("error(-99)")
                    || (t instanceof BindException && m.contains("Address already in use"))) {
                return NO_SOURCE_PORT;
            }
            if (m.contains("Connection refused") || m.contains("error(-111)")) {
                return REFUSED;
            }
            if (t instanceof NoRouteToHostException || m.contains("unreachable")) {
                return UNREACHABLE;
            }
            if (m.contains("timed out")) {
                return TIMEOUT;
            }
        }
        return OTHER;
    }
}
