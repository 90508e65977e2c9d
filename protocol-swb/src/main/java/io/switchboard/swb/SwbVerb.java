package io.switchboard.swb;

/**
 * The verbs of SWB/1, both directions, as the parsers name them to their handlers; {@link #UNKNOWN} stands for
 * any other word (including a verb of the other direction). Immutable.
 */
public enum SwbVerb {
    // client to server
    HELLO, ACK, SEND, SUB, UNSUB, AUTH,
    // server to client
    WELCOME, MSG, SENT, NACK, OK, ERR,
    // both directions
    PING, PONG, BYE,
    /** Not a verb this direction of SWB/1 knows. */
    UNKNOWN
}
