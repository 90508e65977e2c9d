package io.switchboard.client;

/** One decoded server-to-client SWB/1 frame, produced by {@link FrameDecoder}. Immutable. */
sealed interface Frame {

    /** {@code WELCOME ...}. */
    record WelcomeFrame(Welcome welcome) implements Frame {
    }

    /** A {@code MSG} whose payload, {@code bytes} long, was over {@code maxPayloadBytes}: dropped unread. */
    record Skipped(long seq, long bytes) implements Frame {
    }

    /** {@code MSG <seq> <n>} and its payload. */
    record Msg(long seq, byte[] payload) implements Frame {
    }

    /** {@code PING} and {@code PONG}: no arguments. */
    enum Signal implements Frame {
        PING, PONG
    }

    /** {@code SENT <id>}. */
    record Sent(String id) implements Frame {
    }

    /** {@code NACK <id> <code> <text>}. */
    record Nack(String id, int code, String text) implements Frame {
    }

    /** {@code OK <verb> <subject>}, e.g. {@code OK SUB news}. */
    record Ok(String verb, String subject) implements Frame {
    }

    /** {@code ERR <code> <text>}. */
    record Err(int code, String text) implements Frame {
    }

    /** {@code BYE <code> <text> [retry=<ms>]}; {@code retryMs} is -1 when absent. */
    record Bye(int code, String text, long retryMs) implements Frame {
    }

    /** The input was not SWB/1; the decoder has closed the channel and discards everything after. */
    record Malformed(String reason) implements Frame {
    }
}
