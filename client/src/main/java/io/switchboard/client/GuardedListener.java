package io.switchboard.client;

/**
 * The application's {@link SwitchboardListener} behind a guard: a callback that throws is logged once with its
 * stack, then only counted at DEBUG, and never disturbs the client. Confined to the client's event loop.
 * Each callback has its own try/catch rather than a shared helper taking a lambda, which would allocate per message.
 */
final class GuardedListener implements SwitchboardListener {
    // The client's own logger name, where operators already look for it.
    private static final System.Logger LOG = System.getLogger(SwitchboardClient.class.getName());

    private final String clientId;
    private final SwitchboardListener listener;
    private long failures;

    GuardedListener(String clientId, SwitchboardListener listener) {
        this.clientId = clientId;
        this.listener = listener;
    }

    @Override
    public void onConnected(Welcome welcome) {
        try {
            listener.onConnected(welcome);
        } catch (Throwable t) {
            failed("onConnected", t);
        }
    }

    @Override
    public void onMessage(long seq, byte[] payload) {
        try {
            listener.onMessage(seq, payload);
        } catch (Throwable t) {
            failed("onMessage", t);
        }
    }

    @Override
    public void onSessionReset(long resumedFromSeq, long serverSeq) {
        try {
            listener.onSessionReset(resumedFromSeq, serverSeq);
        } catch (Throwable t) {
            failed("onSessionReset", t);
        }
    }

    @Override
    public void onError(int code, String text) {
        try {
            listener.onError(code, text);
        } catch (Throwable t) {
            failed("onError", t);
        }
    }

    @Override
    public void onBye(int code, String text) {
        try {
            listener.onBye(code, text);
        } catch (Throwable t) {
            failed("onBye", t);
        }
    }

    @Override
    public void onDisconnected(Throwable causeOrNull, long reconnectDelayMs) {
        try {
            listener.onDisconnected(causeOrNull, reconnectDelayMs);
        } catch (Throwable t) {
            failed("onDisconnected", t);
        }
    }

    private void failed(String callback, Throwable t) {
        // Logged once with its stack, then only counted at DEBUG: a failing listener must not flood the log.
        if (failures++ == 0) {
            LOG.log(System.Logger.Level.WARNING, "client " + clientId + ": listener " + callback
                    + " threw; the client ignores listener failures", t);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "client {0}: listener {1} threw ({2} failures): {3}",
                    clientId, callback, failures, t);
        }
    }
}
