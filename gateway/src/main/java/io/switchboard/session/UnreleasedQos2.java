package io.switchboard.session;

import java.util.concurrent.ConcurrentHashMap;

/**
 * MQTT's exactly once, between a client's connections: the packet ids of QoS 2 messages a client sent, which were
 * delivered and not released yet ({@code PUBREL}), kept for its next connection to the same session, so that a
 * {@code PUBLISH} it sends again (no {@code PUBREC} reached it) is not delivered a second time.
 *
 * <p>In one process a connection parks its ids here when it ends (or is taken over) and the next connection takes
 * them at its {@code CONNACK}. In a cluster the directory keeps them in Redis as they come and go
 * ({@link ClientDirectory#qos2Received}), and the claim of a new connection, on any node, parks here what Redis
 * held, for that connection to take.
 *
 * <p>At most {@link #MAX_CLIENTS} clients are kept; past that, ones whose session expired are dropped, and if none
 * has, the new one is not kept (its resend may then be delivered twice, as at QoS 1). Thread-safe.
 */
public final class UnreleasedQos2 {
    public static final int MAX_CLIENTS = 10_000;

    private record Parked(int[] packetIds, long untilMs) {
    }

    private final ConcurrentHashMap<String, Parked> parked = new ConcurrentHashMap<>();

    /**
     * Keeps {@code packetIds} for {@code clientId}'s next connection until {@code untilMs} (when its session
     * expires), replacing what was kept; an empty array forgets them.
     */
    public void park(String clientId, int[] packetIds, long untilMs, long nowMs) {
        if (packetIds.length == 0) {
            parked.remove(clientId);
            return;
        }
        if (parked.size() >= MAX_CLIENTS && !parked.containsKey(clientId)) {
            parked.values().removeIf(p -> p.untilMs() <= nowMs);
            if (parked.size() >= MAX_CLIENTS) {
                return;
            }
        }
        parked.put(clientId, new Parked(packetIds, untilMs));
    }

    /** The ids kept for {@code clientId}, forgetting them; an empty array when none (or its session ended). */
    public int[] take(String clientId, long nowMs) {
        Parked p = parked.remove(clientId);
        return p == null || p.untilMs() <= nowMs ? new int[0] : p.packetIds();
    }

    /** How many clients have ids kept here. */
    public int size() {
        return parked.size();
    }
}
