package io.switchboard.service;

import java.util.List;

/**
 * What a broadcast or topic message reached: the clients it was written to, and, in a cluster, the other nodes that
 * did not confirm theirs (no answer in time, or a failure there): their clients may have got it too, but are not
 * counted.
 */
public record Reach(long delivered, List<String> unconfirmedNodes) {
    public Reach {
        unconfirmedNodes = List.copyOf(unconfirmedNodes);
    }

    /** {@code delivered} clients, every node confirmed. */
    public static Reach of(long delivered) {
        return new Reach(delivered, List.of());
    }

    /** The two together: clients summed, unconfirmed nodes listed once each. */
    public Reach plus(Reach other) {
        if (other.unconfirmedNodes.isEmpty()) {
            return new Reach(delivered + other.delivered, unconfirmedNodes);
        }
        List<String> nodes = new java.util.ArrayList<>(unconfirmedNodes);
        for (String n : other.unconfirmedNodes) {
            if (!nodes.contains(n)) {
                nodes.add(n);
            }
        }
        return new Reach(delivered + other.delivered, nodes);
    }
}
