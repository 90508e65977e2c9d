package io.switchboard.mqtt;

/**
 * The MQTT 5 properties of one CONNACK, set fluently; each stays absent until set. Mutable, made for one CONNACK on
 * one thread.
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

    /** No properties yet. */
    public static ConnackProperties none() {
        return new ConnackProperties();
    }

    /** -1: absent. */
    public ConnackProperties withSessionExpirySec(long v) {
        sessionExpirySec = v;
        return this;
    }

    /** 0: absent. */
    public ConnackProperties withReceiveMaximum(int v) {
        receiveMaximum = v;
        return this;
    }

    /** -1: absent (QoS 2 is supported). */
    public ConnackProperties withMaximumQos(int v) {
        maximumQos = v;
        return this;
    }

    public ConnackProperties withRetainAvailable(Boolean v) {
        retainAvailable = v;
        return this;
    }

    /** 0: absent. */
    public ConnackProperties withMaximumPacketSize(long v) {
        maximumPacketSize = v;
        return this;
    }

    /** null: absent. */
    public ConnackProperties withAssignedClientId(String v) {
        assignedClientId = v;
        return this;
    }

    /** -1: absent (which means 0 to the client). */
    public ConnackProperties withTopicAliasMaximum(int v) {
        topicAliasMaximum = v;
        return this;
    }

    public ConnackProperties withReasonString(String v) {
        reasonString = v;
        return this;
    }

    public ConnackProperties withWildcardSubscriptionAvailable(Boolean v) {
        wildcardSubscriptionAvailable = v;
        return this;
    }

    public ConnackProperties withSubscriptionIdentifiersAvailable(Boolean v) {
        subscriptionIdentifiersAvailable = v;
        return this;
    }

    public ConnackProperties withSharedSubscriptionAvailable(Boolean v) {
        sharedSubscriptionAvailable = v;
        return this;
    }

    /** -1: absent. */
    public ConnackProperties withServerKeepAliveSec(int v) {
        serverKeepAliveSec = v;
        return this;
    }
}
