package io.switchboard.mqtt;

/** One decoded packet a client sends. Immutable. */
public sealed interface MqttPacket permits Connect, Publish, PubAck, PubRec, PubRel, PubComp, Subscribe, Unsubscribe,
        PingReq, Disconnect, Auth {
}
