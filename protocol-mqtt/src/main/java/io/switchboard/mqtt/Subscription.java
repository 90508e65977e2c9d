package io.switchboard.mqtt;

/**
 * One filter of a SUBSCRIBE and its options. The filter is syntactically valid ({@link MqttTopics#validFilter});
 * a shared subscription ({@code $share/name/filter}) is passed on as it is, for the server to accept or refuse.
 *
 * @param qos               the maximum QoS asked for: 0, 1 or 2
 * @param noLocal           v5: do not send the client its own PUBLISHes (false in 3.1.1)
 * @param retainAsPublished v5: keep the retain flag of forwarded messages (false in 3.1.1)
 * @param retainHandling    v5: 0 send retained messages on subscribe, 1 only for a new subscription, 2 never (0 in
 *                          3.1.1)
 */
public record Subscription(String filter, int qos, boolean noLocal, boolean retainAsPublished, int retainHandling) {
}
