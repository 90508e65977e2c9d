package io.switchboard.mqtt;

/** PINGREQ: the client is alive; the answer is {@link MqttEncoder#pingresp}. */
public record PingReq() implements MqttPacket {
    /** The one PINGREQ the decoder returns: it has no fields. */
    public static final PingReq INSTANCE = new PingReq();
}
