package io.switchboard.mqtt;

/**
 * The MQTT 5 properties of one CONNACK ({@link MqttEncoder#connack}), set fluently; each stays absent until set,
 * and setting the "absent" value removes it again. Written in this order: session expiry interval, receive maximum,
 * maximum QoS, retain available, maximum packet size, assigned client identifier, topic alias maximum, reason
 * string, wildcard / subscription identifiers / shared subscriptions available, server keep alive, server
 * reference. Mutable, made for one CONNACK on one thread.
 */
public final class ConnackProperties {
    long sessionExpirySec = -1;
    int receiveMaximum;
    int maximumQos = -1;
    Boolean retainAvailable;
    long maximumPacketSize;
    String assignedClientId;
    int topicAliasMaximum = -1;
    String reasonString;
    Boolean wildcardSubscriptionAvailable;
    Boolean subscriptionIdentifiersAvailable;
    Boolean sharedSubscriptionAvailable;
    int serverKeepAliveSec = -1;
    String serverReference;

    private ConnackProperties() {
    }

    /** No properties yet. */
    public static ConnackProperties none() {
        return new ConnackProperties();
    }

    /** The session expiry interval the server uses instead of the client's (0x11); -1: absent. */
    public ConnackProperties withSessionExpirySec(long v) {
        sessionExpirySec = v;
        return this;
    }

    /** QoS 1 and 2 PUBLISHes the server takes unacknowledged (0x21), at most 65535; 0: absent (65535). */
    public ConnackProperties withReceiveMaximum(int v) {
        receiveMaximum = v;
        return this;
    }

    /** The highest QoS the server accepts, 0 or 1 (0x24); -1: absent (QoS 2 is supported). */
    public ConnackProperties withMaximumQos(int v) {
        maximumQos = v;
        return this;
    }

    /** Whether the server keeps retained messages (0x25); null: absent (it does). */
    public ConnackProperties withRetainAvailable(Boolean v) {
        retainAvailable = v;
        return this;
    }

    /** The largest packet the server accepts (0x27); 0: absent (no limit but MQTT's). */
    public ConnackProperties withMaximumPacketSize(long v) {
        maximumPacketSize = v;
        return this;
    }

    /** The client id the server assigned for an empty one (0x12); null: absent. */
    public ConnackProperties withAssignedClientId(String v) {
        assignedClientId = v;
        return this;
    }

    /** Topic aliases the server accepts from the client (0x22); -1: absent (which means 0 to the client). */
    public ConnackProperties withTopicAliasMaximum(int v) {
        topicAliasMaximum = v;
        return this;
    }

    /** A human-readable reason (0x1F), cut to 65535 bytes; null: absent. */
    public ConnackProperties withReasonString(String v) {
        reasonString = v;
        return this;
    }

    /** Whether wildcard filters are accepted (0x28); null: absent (they are). */
    public ConnackProperties withWildcardSubscriptionAvailable(Boolean v) {
        wildcardSubscriptionAvailable = v;
        return this;
    }

    /** Whether subscription identifiers are accepted (0x29); null: absent (they are). */
    public ConnackProperties withSubscriptionIdentifiersAvailable(Boolean v) {
        subscriptionIdentifiersAvailable = v;
        return this;
    }

    /** Whether shared subscriptions are accepted (0x2A); null: absent (they are). */
    public ConnackProperties withSharedSubscriptionAvailable(Boolean v) {
        sharedSubscriptionAvailable = v;
        return this;
    }

    /** The keep-alive the server uses instead of the client's (0x13), at most 65535; -1: absent. */
    public ConnackProperties withServerKeepAliveSec(int v) {
        serverKeepAliveSec = v;
        return this;
    }

    /** Another server for the client to use, with reason 0x9C or 0x9D (0x1C); null: absent. */
    public ConnackProperties withServerReference(String v) {
        serverReference = v;
        return this;
    }
}
