package io.switchboard.client;

/**
 * Receives the events of one {@link SwitchboardClient}. Every method has an empty default, so implement only
 * what you need; one listener instance may serve many clients.
 *
 * <p>Threading: every callback runs on the client's event loop, one at a time and in the order the events
 * happened. Do not block in a callback (hand slow work to your own executor): while it runs, this client and
 * every other client sharing the loop receive nothing. An exception thrown by a callback is logged and
 * otherwise ignored.
 *
 * <p>Order over a connection's life: {@link #onConnected}, then {@link #onSessionReset} if the server lost the
 * session, then {@link #onMessage} for each new message; at the end {@link #onBye} if the server said why, then
 * exactly one {@link #onDisconnected}. A connection attempt that fails also ends in {@link #onDisconnected}.
 */
public interface SwitchboardListener {

    /** The server accepted the handshake; topics are being (re)subscribed and messages may follow. */
    default void onConnected(Welcome welcome) {
    }

    /**
     * A message pushed to this client, delivered once: re-sent copies ({@code seq} at or below
     * {@link SwitchboardClient#highestSeq()}) are acknowledged but not delivered again.
     *
     * <p>A message is acknowledged to the server once this method has returned for it (also when it threw), unless
     * the client was built with {@link SwitchboardClient.Builder#manualAcknowledgement()}: then only once the
     * application calls {@link SwitchboardClient#acknowledge} for it. Calling
     * {@link SwitchboardClient#closeAsync()} from here acknowledges up to and including this message and no further:
     * messages already on their way are neither delivered nor acknowledged, so the server re-sends retained ones to
     * the next connection.
     *
     * @param seq     the server's sequence number for this client, increasing
     * @param payload the raw payload; the array is the listener's to keep
     */
    default void onMessage(long seq, byte[] payload) {
    }

    /**
     * The client resumed from {@code resumedFromSeq} but the server's {@code WELCOME} reported a lower last
     * sequence number: the server lost the session (for example it restarted without its queue), messages
     * after {@code serverSeq} that were never received are lost, and numbering continues after {@code serverSeq}.
     * {@link SwitchboardClient#highestSeq()} is now {@code serverSeq}. {@code resumedFromSeq} is the highest seq the
     * client had received (with {@link SwitchboardClient.Builder#manualAcknowledgement()} it resumed from the
     * acknowledged one, lower). With manual acknowledgement, messages above {@code serverSeq} not acknowledged yet are
     * no longer the server's: acknowledging them would acknowledge the new messages of those numbers (numbering from
     * 0, {@code --seq-origin zero}; the default numbering from the clock does not repeat them).
     */
    default void onSessionReset(long resumedFromSeq, long serverSeq) {
    }

    /**
     * The server refused a command with {@code ERR <code> <text>}; the connection stays open. Also {@code 413} for a
     * message larger than {@link SwitchboardClient.Builder#maxPayloadBytes}, skipped and not delivered.
     */
    default void onError(int code, String text) {
    }

    /**
     * The server is closing the connection with {@code BYE <code> <text> [retry=<ms>]}. After {@code 401} or
     * {@code 403} the client does not reconnect with the token that was refused (give it a new token with
     * {@link SwitchboardClient#updateToken(String)} and call {@link SwitchboardClient#connect()} again, here or later:
     * called here, {@code connect()} completes with the next {@code WELCOME}); a token given since the refused one's
     * {@code HELLO} is tried as any reconnect would.
     */
    default void onBye(int code, String text) {
    }

    /**
     * A connection ended or a connection attempt failed.
     *
     * @param causeOrNull      why: a {@link SwitchboardException} for a server {@code BYE} (its code) or a
     *                         protocol error, an I/O exception, a timeout; {@code null} when {@link
     *                         SwitchboardClient#close()} ended it
     * @param reconnectDelayMs when the next attempt starts, or {@code -1} if the client will not reconnect
     */
    default void onDisconnected(Throwable causeOrNull, long reconnectDelayMs) {
    }
}
