package io.switchboard.client;

import java.io.Serial;

/**
 * A request that the server refused ({@code NACK}, {@code ERR}, {@code BYE}) or that could not complete
 * (not connected, connection lost, client closed, malformed frame from the server).
 * {@link #code()} is the SWB/1 status code the server sent, or {@link #LOCAL} when the failure is local.
 * Immutable; safe to share between threads.
 */
public final class SwitchboardException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** {@link #code()} of failures that did not come from the server. */
    public static final int LOCAL = -1;

    private final int code;

    public SwitchboardException(int code, String message) {
        super(message);
        this.code = code;
    }

    public SwitchboardException(int code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The SWB/1 code sent by the server (400, 401, 403, 408, 409, 413, 429, 503, ...) or {@link #LOCAL}. */
    public int code() {
        return code;
    }

    /** True when the server sent this code, false for local failures. */
    public boolean fromServer() {
        return code != LOCAL;
    }
}
