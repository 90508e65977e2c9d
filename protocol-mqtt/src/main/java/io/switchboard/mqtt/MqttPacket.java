package io.switchboard.mqtt;

/**
 * One decoded packet a client sends ({@link MqttDecoder#decode}): a record per packet type. Immutable but for the
 * {@code byte[]} fields, which are the caller's own copies.
 */
public sealed interface MqttPacket permits Connect, Publish, PubAck, PubRec, PubRel, PubComp, Subscribe, Unsubscribe,
        PingReq, Disconnect, Auth {
}
