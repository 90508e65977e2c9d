package io.switchboard.session;

import io.switchboard.service.PushResult;
import io.switchboard.store.MessageStore;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The answer to one stored push, given exactly once: when the store reports (kept, or failed), or when it has not
 * reported within the append timeout; a store that reports late or twice changes nothing. Allocated per stored push
 * only; thread-safe (a store may report from any thread while the timeout fires on the session's loop). Its timeout
 * is cancelled once answered: left to fire, every stored push would be held, with what its answer refers to, for the
 * whole timeout (10 s of pushes at the store's rate).
 */
final class StoreAnswer extends AtomicBoolean implements MessageStore.Appended, Runnable {
    private final PushResult accepted;
    private final String clientId;
    private final Consumer<PushResult> done;
    private final BiConsumer<String, Throwable> failed;
    private volatile Future<?> timeout;

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
            Future<?> t = timeout;
            if (t != null) {
                t.cancel(false);
            }
            if (failure == null) {
                done.accept(accepted);
            } else {
                failed.accept(clientId, failure);
            }
        }
    }

    /** The scheduled {@link #run} of the append timeout: cancelled when the answer comes (or came already). */
    void timeout(Future<?> t) {
        timeout = t;
        if (answered()) {
            t.cancel(false);
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
