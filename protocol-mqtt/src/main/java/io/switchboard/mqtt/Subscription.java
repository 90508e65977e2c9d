package io.switchboard.mqtt;

/** One filter of a SUBSCRIBE, with its options (v5's; false/0 in 3.1.1). */
public record Subscription(String filter, int qos, boolean noLocal, boolean retainAsPublished, int retainHandling) {
}
