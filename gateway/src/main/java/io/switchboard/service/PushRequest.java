package io.switchboard.service;

/** One item of a batch push ({@link PushService#pushBatch}). Immutable; the payload is not copied. */
public record PushRequest(String clientId, byte[] payload, int ttlSec) {
}
