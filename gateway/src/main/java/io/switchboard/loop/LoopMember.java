package io.switchboard.loop;

import io.switchboard.session.Session;

/** A connection as its event loop's bookkeeping sees it: on the loop's wheel and in its member list. */
public interface LoopMember extends DeadlineWheel.Entry {
    /** Called on the loop when the member's deadline has passed (handshake or idle timeout). */
    void onDeadline(long nowSec);

    /** The session once the handshake completed, else {@code null}. */
    Session session();

    int memberIndex();

    void memberIndex(int index);
}
