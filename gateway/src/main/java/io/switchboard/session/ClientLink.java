package io.switchboard.session;

/**
 * A session's live connection, as the protocol adapter exposes it to the protocol-independent session model.
 * Every method is called on the connection's own event loop.
 */
public interface ClientLink {
    /** Queues one message on the connection (no flush). */
    void writeMessage(Message m);

    void flush();

    /** Whether the connection's outbound buffer is below its high-water mark. */
    boolean isWritable();

    /** Tells the client why ({@code BYE code text [retry=ms]}), flushes and closes. */
    void close(int code, String text, long retryMs);

    /** The client's address as {@code ip:port}. */
    String remoteAddress();
}
