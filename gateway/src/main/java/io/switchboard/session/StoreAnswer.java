package io.switchboard.session;

import io.switchboard.service.PushResult;
import io.switchboard.store.MessageStore;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The answer to one stored push, given exactly once: when the store reports (kept, or failed), or when it has not
 * reported within the append timeout; a store that reports late or twice changes nothing. Allocated per stored push
 * only; thread-safe (a store may report from any thread while the timeout fires on the session's loop).
 */
final class StoreAnswer extends AtomicBoolean implements MessageStore.Appended, Runnable {
    private final PushResult accepted;
    private final String clientId;
    private final Consumer<PushResult> done;
    private final BiConsumer<String, Throwable> failed;

    /**
     * @param accepted the push's answer once the store kept it
     * @param failed   answers (and counts) a failure: gets the client id and the cause
     */
    StoreAnswer(PushResult accepted, String clientId, Consumer<PushResult> done, BiConsumer<String, Throwable> failed) {
        this.accepted = accepted;
        this.clientId = clientId;
        this.done = done;
        this.failed = failed;
    }

    @Override
    public void done(Throwable failure) {
        if (compareAndSet(false, true)) {
            if (failure == null) {
                done.accept(accepted);
            } else {
                failed.accept(clientId, failure);
            }
        }
    }

    /** The append timeout passed. */
    @Override
    public void run() {
        done(new TimeoutException("the store did not answer within " + Deliveries.STORE_APPEND_TIMEOUT_MS + " ms"));
    }

    boolean answered() {
        return get();
    }
}
