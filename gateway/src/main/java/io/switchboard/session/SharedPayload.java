package io.switchboard.session;

/**
 * One payload array that many queued messages hold (a broadcast's, a topic message's): the budget of queued bytes
 * counts it once, from the first message that takes it until the last one holding it leaves its queue, whichever
 * recipients those are and on whichever loops. Thread-safe: the recipients' loops take and let go of it.
 */
final class SharedPayload {
    private final int bytes;
    private int holders;

    SharedPayload(int bytes) {
        this.bytes = bytes;
    }

    /**
     * A message holding it enters a queue: takes {@code ownCost} and, for the first holder, the payload, from
     * {@code total}; false, nothing taken, when the budget has no room.
     */
    synchronized boolean take(QueuedBytes total, long ownCost) {
        if (!total.tryTake(ownCost + (holders == 0 ? bytes : 0))) {
            return false;
        }
        holders++;
        return true;
    }

    /** As {@link #take}, whatever the budget. */
    synchronized void takeAnyway(QueuedBytes total, long ownCost) {
        total.take(ownCost + (holders == 0 ? bytes : 0));
        holders++;
    }

    /** A message holding it left its queue: what to give back, its own cost and, for the last holder, the payload. */
    synchronized long release(long ownCost) {
        holders--;
        return ownCost + (holders == 0 ? bytes : 0);
    }
}
