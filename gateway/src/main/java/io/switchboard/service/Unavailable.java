package io.switchboard.service;

/**
 * A service's answer could not be had for now (the cluster's Redis did not answer, say): the API answers 503 with
 * its message, which says why, rather than 500. Carries no stack trace: it is an answer, not a fault.
 */
public final class Unavailable extends RuntimeException {
    public Unavailable(String message) {
        super(message, null, false, false);
    }
}
