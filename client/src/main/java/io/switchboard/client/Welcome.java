package io.switchboard.client;

/**
 * The server's answer to {@code HELLO}: {@code WELCOME <client-id> v=1 hb=<s> seq=<s> [node=<name>]}.
 * Immutable; safe to share between threads.
 *
 * @param clientId         the client id the server registered (always the one this client sent)
 * @param heartbeatSeconds the heartbeat interval the server enforces; {@code 0} means no application heartbeats
 * @param seq              the last sequence number the server has assigned to this client
 * @param node             the name of the server node that holds the connection, or {@code null} if it sent none
 */
public record Welcome(String clientId, int heartbeatSeconds, long seq, String node) {
}
